// A minimal stand-in for d3-jetpack (https://github.com/gka/d3-jetpack, BSD-3-Clause), written
// for tools/circuit_tracer_viewer_test.py. circuit-tracer's viewer loads Anthropic's build of
// d3-jetpack from transformer-circuits.pub, which the test machines cannot reach; the test serves
// this file at that address instead. It implements only what the viewer calls, with d3-jetpack's
// documented behaviour: `append('tag.class#id')`, `selectAppend`, `appendMany`, `at`, `st`
// (numbers get 'px' on length properties), `translate`, `parent`, `d3.nestBy`, `d3.clamp`,
// `d3.conventions` (svg / canvas / div layers) and `d3.attachTooltip`. Needs d3 v7 loaded first.
(function () {
  const proto = d3.selection.prototype

  // 'div.a.b#c' -> {tag: 'div', classes: 'a b', id: 'c'}
  function parseName(name) {
    const parts = name.split(/([.#])/)
    const out = {tag: parts[0] || 'div', classes: [], id: null}
    for (let i = 1; i < parts.length; i += 2) {
      if (parts[i] === '.') out.classes.push(parts[i + 1])
      else out.id = parts[i + 1]
    }
    return out
  }
  function decorate(sel, n) {
    if (n.classes.length) sel.attr('class', n.classes.join(' '))
    if (n.id) sel.attr('id', n.id)
    return sel
  }

  const d3Append = proto.append
  proto.append = function (name) {
    if (typeof name !== 'string') return d3Append.call(this, name)
    const n = parseName(name)
    return decorate(d3Append.call(this, n.tag), n)
  }

  proto.selectAppend = function (name) {
    const n = parseName(name)
    const create = d3.creator(n.tag)
    const s = this.select(function () {
      return this.querySelector(name) || this.appendChild(create.apply(this, arguments))
    })
    return decorate(s, n)
  }

  proto.appendMany = function (name, data) {
    const n = parseName(name)
    return decorate(this.selectAll(null).data(data).enter().append(n.tag), n)
  }

  const svgCamel = /^(alignmentBaseline|baselineShift|clipPath|clipRule|colorInterpolation|dominantBaseline|fillOpacity|fillRule|floodColor|floodOpacity|fontFamily|fontSize|fontStyle|fontWeight|letterSpacing|markerEnd|markerMid|markerStart|paintOrder|pointerEvents|shapeRendering|stopColor|stopOpacity|strokeDasharray|strokeDashoffset|strokeLinecap|strokeLinejoin|strokeMiterlimit|strokeOpacity|strokeWidth|textAnchor|textDecoration|textRendering|vectorEffect|wordSpacing|writingMode)$/
  const kebab = s => s.replace(/([a-z\d])([A-Z])/g, '$1-$2').toLowerCase()

  proto.at = function (name, value) {
    if (typeof name === 'object') {
      for (const key in name) this.attr(svgCamel.test(key) ? kebab(key) : key, name[key])
      return this
    }
    return arguments.length === 1 ? this.attr(name) : this.attr(name, value)
  }

  const pxStyles = new Set(('top left bottom right width height min-width max-width min-height max-height ' +
    'margin margin-top margin-left margin-bottom margin-right padding padding-top padding-left ' +
    'padding-bottom padding-right border border-top border-left-width border-bottom-width ' +
    'border-right-width border-radius font-size line-height stroke-width gap').split(' '))
  const px = v => (typeof v === 'number' ? v + 'px' : v)

  proto.st = function (name, value) {
    const set = (key, v) => {
      const style = kebab(key)
      if (!pxStyles.has(style)) return this.style(style, v)
      return this.style(style, typeof v === 'function' ? function () { return px(v.apply(this, arguments)) } : px(v))
    }
    if (typeof name === 'object') {
      for (const key in name) set(key, name[key])
      return this
    }
    return arguments.length === 1 ? this.style(name) : set(name, value)
  }

  proto.translate = function (xy, dim) {
    const node = this.node()
    if (!node) return this
    const at = (d, i, el) => (typeof xy === 'function' ? xy.call(el, d, i) : xy)
    const isSvg = !!node.getBBox
    const fmt = p => {
      const [x, y] = dim === 0 ? [p, 0] : dim === 1 ? [0, p] : p
      return isSvg ? `translate(${x},${y})` : `translate(${x}px,${y}px)`
    }
    return isSvg
      ? this.attr('transform', function (d, i) { return fmt(at(d, i, this)) })
      : this.style('transform', function (d, i) { return fmt(at(d, i, this)) })
  }

  proto.parent = function () {
    const seen = new Set()
    return this.select(function () { return this.parentNode })
      .filter(function () { if (seen.has(this)) return false; seen.add(this); return true })
  }

  // Groups in first-seen order; each group is the array of its items with a `key`.
  d3.nestBy = function (array, key) {
    return d3.groups(array, key).map(([k, values]) => Object.assign(values, {key: k}))
  }

  d3.clamp = (lo, v, hi) => Math.max(lo, Math.min(hi, v))

  d3.conventions = function (c = {}) {
    c.margin = Object.assign({top: 20, right: 20, bottom: 20, left: 20}, c.margin)
    if (c.parentSel) c.sel = c.parentSel
    c.sel = c.sel || d3.select('body')
    const node = c.sel.node()
    c.totalWidth = c.totalWidth || (node && node.offsetWidth) || 960
    c.totalHeight = c.totalHeight || (node && node.offsetHeight) || 500
    c.width = c.width || c.totalWidth - c.margin.left - c.margin.right
    c.height = c.height || c.totalHeight - c.margin.top - c.margin.bottom
    c.totalWidth = c.width + c.margin.left + c.margin.right
    c.totalHeight = c.height + c.margin.top + c.margin.bottom
    c.sel.st({position: 'relative', width: c.totalWidth, height: c.totalHeight})

    c.x = c.x || d3.scaleLinear().range([0, c.width])
    c.y = c.y || d3.scaleLinear().range([c.height, 0])
    c.xAxis = c.xAxis || d3.axisBottom(c.x)
    c.yAxis = c.yAxis || d3.axisLeft(c.y)

    const layered = !!c.layers
    c.layers = (c.layers || 's').split('').map(type => {
      if (type === 's') {
        const g = c.sel.append('svg')
          .st({position: layered ? 'absolute' : ''})
          .at({width: c.totalWidth, height: c.totalHeight})
          .append('g').translate([c.margin.left, c.margin.top])
        if (!c.svg) c.svg = g
        return g
      }
      if (type === 'c') {
        const s = window.devicePixelRatio || 1
        const ctx = c.sel.append('canvas')
          .at({width: c.totalWidth * s, height: c.totalHeight * s})
          .st({width: c.totalWidth, height: c.totalHeight, position: 'absolute'})
          .node().getContext('2d')
        ctx.scale(s, s)
        ctx.translate(c.margin.left, c.margin.top)
        return ctx
      }
      return c.sel.append('div').st({position: 'absolute', left: c.margin.left, top: c.margin.top,
                                     width: c.width, height: c.height})
    })

    c.drawAxis = svg => {
      svg = svg || c.svg
      return {
        xAxisSel: svg.append('g.x.axis').translate([0, c.height]).call(c.xAxis),
        yAxisSel: svg.append('g.y.axis').call(c.yAxis),
      }
    }
    return c
  }

  d3.attachTooltip = function (sel, tooltipSel, fieldFns) {
    if (!sel.size()) return
    tooltipSel = tooltipSel || d3.select('.tooltip')
    const d0 = sel.datum()
    fieldFns = fieldFns || Object.keys(d0).filter(k => typeof d0[k] !== 'object')
      .map(k => d => `${k}: <b>${d[k]}</b>`)
    sel
      .on('mouseover.attachTooltip', function (ev, d) {
        tooltipSel.classed('tooltip-hidden', false).html('')
          .appendMany('div', fieldFns).html(fn => fn(d))
        d3.select(this).classed('tooltipped', true)
      })
      .on('mousemove.attachTooltip', ev => {
        if (!tooltipSel.size()) return
        const bb = tooltipSel.node().getBoundingClientRect()
        const left = d3.clamp(20, ev.clientX - bb.width / 2, window.innerWidth - bb.width - 20)
        const top = window.innerHeight > ev.clientY + 20 + bb.height ? ev.clientY + 20 : ev.clientY - bb.height - 20
        tooltipSel.st({left, top})
      })
      .on('mouseout.attachTooltip', () => {
        tooltipSel.classed('tooltip-hidden', true)
        d3.selectAll('.tooltipped').classed('tooltipped', false)
      })
  }
})()
