/// `/graph/{id}`: the attribution graph on a canvas (layer × token position, embeddings at the
/// bottom, logits at the top), thresholds, node details and supernodes. Data: `/api/graph/{id}`,
/// `/api/feature/...`, `/api/supernodes/{id}`.
enum GraphPageBody {
    static let html = #"""
    <h1 id="graph-title">Graph</h1>
    <div class="ctx" id="prompt-text"></div>
    <div class="toolbar">
      <label>node threshold <input type="number" id="node-threshold" min="0" max="1" step="0.01" value="1"></label>
      <label>edge threshold <input type="number" id="edge-threshold" min="0" max="1" step="0.01" value="1"></label>
      <button id="apply-thresholds">Re-prune</button>
      <span class="muted" id="threshold-direction"></span>
      <span>nodes <span class="stat" id="node-count">–</span></span><span>edges <span class="stat" id="edge-count">–</span></span>
      <span class="muted" id="graph-scores"></span>
      <button id="zoom-reset" title="Mouse wheel zooms around the pointer, dragging the background pans; click to return to 100%">zoom <span id="zoom-level">100%</span></button>
    </div>
    <div class="toolbar note-row"><span class="muted" id="pruning-note"></span>
      <span class="legend"><span><i style="background:var(--feat)"></i>feature</span><span><i class="sq" style="background:var(--err)"></i>error</span><span><i class="sq" style="background:var(--tok)"></i>embedding</span><span><i style="background:var(--logit)"></i>logit</span><span><i style="background:var(--pos);border-radius:0;height:3px"></i>+ edge</span><span><i style="background:var(--neg);border-radius:0;height:3px"></i>− edge</span></span>
    </div>
    <div id="graph-error"></div>
    <div class="graph-wrap">
      <div class="canvas-box" id="canvas-box"><div id="canvas-spacer"><canvas id="graph-canvas"></canvas></div></div>
      <div class="side">
        <div id="details"><p class="muted">Hover a node for its values; click it for its inputs, outputs and dashboard. Shift-click features (or tick “select”) to group them into a supernode. Mouse wheel zooms around the pointer; drag the background to pan.</p></div>
        <h3>Supernodes</h3>
        <div class="toolbar"><label><input type="checkbox" id="select-mode"> select</label><span class="muted"><span id="selection-count">0</span> selected</span>
          <input id="supernode-name" placeholder="name" size="12"><button id="supernode-save">Group</button></div>
        <div id="supernode-msg"></div>
        <div id="supernode-list"></div>
      </div>
    </div>
    <div id="tooltip"></div>
    """#

    static let script = #"""
    "use strict";
    const T0 = performance.now();
    const canvas = document.getElementById("graph-canvas"), box = document.getElementById("canvas-box"), tip = document.getElementById("tooltip");
    const G = {data: null, L: null, focus: -1, selected: new Set(), supernodes: [], inE: [], outE: [], zoom: 1};
    const ZOOM_MIN = 0.1, ZOOM_MAX = 8;
    window.__circuits = {ready: false};
    const COLORS = {feature: "#f59e0b", error: "#9ca3af", token: "#16a34a", logit: "#7c3aed"};

    function rowOf(n, nLayers) { return n.kind === "token" ? 0 : n.kind === "logit" ? nLayers + 1 : n.layer + 1; }

    /// Positions: column = token position, row = layer (embeddings bottom, logits top); the
    /// nodes of one cell are packed in a small grid, strongest first.
    function layout(d) {
      const nodes = d.nodes, n = nodes.length, nPos = Math.max(1, d.tokens.length), nRows = d.n_layers + 2;
      const cells = new Map();
      for (let i = 0; i < n; i++) {
        const nd = nodes[i]; if (nd.kind === "logit") continue;
        const k = rowOf(nd, d.n_layers) * nPos + nd.pos; let c = cells.get(k); if (!c) cells.set(k, c = []); c.push(i);
      }
      let maxCell = 1; for (const c of cells.values()) maxCell = Math.max(maxCell, c.length);
      const spacing = 13, Lm = 64, Rm = 24, Tm = 54, Bm = 70;
      const avail = Math.max(400, box.clientWidth - 4);
      const colW = Math.max((avail - Lm - Rm) / nPos, Math.min(160, 34 + spacing * Math.ceil(Math.sqrt(maxCell))));
      const perRow = Math.max(1, Math.floor((colW - 8) / spacing));
      const subRows = Math.ceil(maxCell / perRow);
      // Rows fill the box's height when the graph is short, and grow with the fullest cell.
      const rowH = Math.max(60, Math.min(140, subRows * spacing + 26), (box.clientHeight - 8 - Tm - Bm) / (nRows - 1));
      const W = Lm + Rm + colW * nPos, H = Tm + Bm + rowH * (nRows - 1);
      const x = new Float32Array(n), y = new Float32Array(n), r = new Float32Array(n);
      let maxInf = 1e-12; for (const nd of nodes) maxInf = Math.max(maxInf, Math.abs(nd.influence));
      for (const [k, c] of cells) {
        const row = Math.floor(k / nPos), pos = k % nPos;
        c.sort((a, b) => (nodes[a].kind === "error") - (nodes[b].kind === "error") || Math.abs(nodes[b].influence) - Math.abs(nodes[a].influence));
        const used = Math.min(perRow, c.length), rows = Math.ceil(c.length / perRow);
        c.forEach((i, j) => {
          x[i] = Lm + colW * pos + colW / 2 + ((j % perRow) - (used - 1) / 2) * spacing;
          y[i] = H - Bm - row * rowH + (Math.floor(j / perRow) - (rows - 1) / 2) * spacing;
        });
      }
      const logits = []; for (let i = 0; i < n; i++) if (nodes[i].kind === "logit") logits.push(i);
      logits.sort((a, b) => nodes[b].activation - nodes[a].activation);
      const lw = Math.min(90, (W - Lm - Rm) / Math.max(1, logits.length));
      const right = Lm + colW * (nPos - 0.5);
      logits.forEach((i, j) => { x[i] = Math.max(Lm + lw / 2, right - (logits.length - 1 - j) * lw); y[i] = Tm - 12; });
      for (let i = 0; i < n; i++) r[i] = 3 + 5 * Math.sqrt(Math.abs(nodes[i].influence) / maxInf);
      // Hit grid: 24 px cells.
      const grid = new Map();
      for (let i = 0; i < n; i++) { const k = Math.floor(x[i] / 24) + "," + Math.floor(y[i] / 24); let c = grid.get(k); if (!c) grid.set(k, c = []); c.push(i); }
      return {x, y, r, W, H, colW, rowH, Lm, Bm, Tm, nPos, nRows, grid};
    }

    /// Draws the part of the graph under the scroll box's viewport: the canvas is the size of
    /// the viewport (a spacer gives the scroll extent, the layout's size times the zoom), so a
    /// large graph costs what the viewport shows, not its whole area. Layout coordinates are
    /// graph units; screen = graph × zoom − scroll.
    function draw() {
      const d = G.data, L = G.L, nodes = d.nodes, e = d.edges, dpr = window.devicePixelRatio || 1, z = G.zoom;
      const sx = box.scrollLeft, sy = box.scrollTop, vw = Math.min(L.W * z, box.clientWidth), vh = Math.min(L.H * z, box.clientHeight);
      const spacer = document.getElementById("canvas-spacer"); spacer.style.width = L.W * z + "px"; spacer.style.height = L.H * z + "px";
      if (canvas.width !== Math.ceil(vw * dpr) || canvas.height !== Math.ceil(vh * dpr)) { canvas.width = Math.ceil(vw * dpr); canvas.height = Math.ceil(vh * dpr); }
      canvas.style.width = vw + "px"; canvas.style.height = vh + "px"; canvas.style.left = sx + "px"; canvas.style.top = sy + "px";
      const c = canvas.getContext("2d"); c.setTransform(dpr * z, 0, 0, dpr * z, -sx * dpr, -sy * dpr);
      c.fillStyle = "#fcfcfd"; c.fillRect(0, 0, L.W, L.H);
      // Row bands and labels.
      c.font = "11px system-ui, sans-serif"; c.textBaseline = "middle";
      for (let row = 0; row < L.nRows; row++) {
        const yy = row === L.nRows - 1 ? L.Tm - 12 : L.H - L.Bm - row * L.rowH;
        if (row % 2 === 1 && row < L.nRows - 1) { c.fillStyle = "#f5f6f8"; c.fillRect(0, yy - L.rowH / 2, L.W, L.rowH); }
        c.fillStyle = "#6b7280"; c.textAlign = "left";
        c.fillText(row === 0 ? "emb" : row === L.nRows - 1 ? "logits" : "L" + (row - 1), 6, yy);
      }
      // Token labels under their columns.
      c.fillStyle = "#374151"; c.textAlign = "center";
      const every = Math.max(1, Math.ceil(40 / L.colW));
      for (let p = 0; p < L.nPos; p += every) {
        const t = (d.tokens[p] || "").replace(/\n/g, "⏎"); const xx = L.Lm + L.colW * (p + 0.5), yy = L.H - L.Bm + 26;
        c.save(); c.translate(xx, yy); if (L.colW < 60) c.rotate(-0.6); c.fillText(t.length > 14 ? t.slice(0, 13) + "…" : t, 0, 0); c.restore();
      }
      // Edges: 2 signs × 6 strength levels, one path each.
      let maxW = 1e-12; for (let k = 2; k < e.length * 3; k += 3) maxW = Math.max(maxW, Math.abs(G.flat[k]));
      const paths = []; for (let s = 0; s < 12; s++) paths.push(new Path2D());
      const f = G.flat, x = L.x, y = L.y;
      for (let k = 0; k < f.length; k += 3) {
        const w = f[k + 2], level = Math.min(5, Math.floor(6 * Math.abs(w) / maxW));
        const p = paths[(w < 0 ? 6 : 0) + level]; p.moveTo(x[f[k]], y[f[k]]); p.lineTo(x[f[k + 1]], y[f[k + 1]]);
      }
      for (let s = 0; s < 12; s++) {
        const level = s % 6; c.strokeStyle = s < 6 ? "#2563eb" : "#dc2626";
        // Hairlines (width 1) rasterise fastest; only the strongest two levels are thicker.
        c.globalAlpha = 0.1 + 0.15 * level; c.lineWidth = (level < 4 ? 1 : 1.6 + (level - 4)) / z; c.stroke(paths[s]);
      }
      c.globalAlpha = 1;
      if (G.focus >= 0) {
        for (const list of [G.inE[G.focus], G.outE[G.focus]]) for (const k of list) {
          c.strokeStyle = f[k + 2] < 0 ? "#dc2626" : "#2563eb"; c.lineWidth = 1 + 3 * Math.sqrt(Math.abs(f[k + 2]) / maxW);
          c.beginPath(); c.moveTo(x[f[k]], y[f[k]]); c.lineTo(x[f[k + 1]], y[f[k + 1]]); c.stroke();
        }
      }
      // Nodes, one path per kind.
      for (const kind of ["error", "token", "feature", "logit"]) {
        const p = new Path2D();
        for (let i = 0; i < nodes.length; i++) {
          if (nodes[i].kind !== kind) continue; const rr = L.r[i];
          if (kind === "feature" || kind === "logit") { p.moveTo(x[i] + rr, y[i]); p.arc(x[i], y[i], rr, 0, 6.2832); }
          else p.rect(x[i] - rr, y[i] - rr, 2 * rr, 2 * rr);
        }
        c.fillStyle = COLORS[kind]; c.fill(p); c.strokeStyle = "rgba(0,0,0,.35)"; c.lineWidth = 0.6; c.stroke(p);
      }
      // Logit labels.
      c.fillStyle = "#4c1d95"; c.textAlign = "center";
      for (let i = 0; i < nodes.length; i++) if (nodes[i].kind === "logit") {
        c.fillText(`${logitText(nodes[i])} ${(nodes[i].activation * 100).toFixed(0)}%`, x[i], y[i] - 16);
      }
      // Selection, focus, supernodes.
      c.lineWidth = 2.2; c.strokeStyle = "#111827";
      for (const i of G.selected) { c.beginPath(); c.arc(x[i], y[i], L.r[i] + 3, 0, 6.2832); c.stroke(); }
      if (G.focus >= 0) { c.strokeStyle = "#1d4ed8"; c.lineWidth = 3; c.beginPath(); c.arc(x[G.focus], y[G.focus], L.r[G.focus] + 4, 0, 6.2832); c.stroke(); }
      c.setLineDash([5, 3]); c.lineWidth = 1.5; c.strokeStyle = "#0f766e"; c.fillStyle = "#0f766e"; c.textAlign = "left";
      for (const sn of G.supernodes) {
        const members = sn.nodes.map(k => G.byKey.get(k)).filter(i => i !== undefined);
        if (!members.length) continue;
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (const i of members) { x0 = Math.min(x0, x[i] - L.r[i]); y0 = Math.min(y0, y[i] - L.r[i]); x1 = Math.max(x1, x[i] + L.r[i]); y1 = Math.max(y1, y[i] + L.r[i]); }
        c.strokeRect(x0 - 6, y0 - 6, x1 - x0 + 12, y1 - y0 + 12); c.fillText(sn.name, x0 - 6, y0 - 13);
      }
      c.setLineDash([]);
    }

    function logitText(n) {
      const d = G.data, k = d.nodes.filter(m => m.kind === "logit").sort((a, b) => b.activation - a.activation).indexOf(n);
      return JSON.stringify(d.logit_tokens[k] !== undefined ? d.logit_tokens[k] : "#" + n.feature);
    }

    /// Installs a graph answer: flat edges, per-node edge lists, layout, drawing.
    function setData(d) {
      G.data = d; G.focus = -1; G.selected.clear();
      const n = d.nodes.length, f = new Float64Array(d.edges.length * 3);
      G.inE = Array.from({length: n}, () => []); G.outE = Array.from({length: n}, () => []);
      d.edges.forEach((e, k) => { f[3 * k] = e[0]; f[3 * k + 1] = e[1]; f[3 * k + 2] = e[2]; G.outE[e[0]].push(3 * k); G.inE[e[1]].push(3 * k); });
      G.flat = f; G.byKey = new Map(d.nodes.map((nd, i) => [nd.key, i]));
      const t1 = performance.now(); G.L = layout(d);
      const t2 = performance.now(); draw();
      G.timing = {layout: t2 - t1, draw: performance.now() - t2};
      document.getElementById("node-count").textContent = n;
      document.getElementById("edge-count").textContent = d.edges.length;
      updateSelection();
    }

    let pending = false;
    function redraw() { if (!pending && G.L) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); } }
    box.addEventListener("scroll", redraw);

    /// Zoom to `z` keeping the graph point under (px, py) (pixels from the box's top left) in place.
    function zoomTo(z, px, py) {
      if (!G.L) return;
      z = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
      const gx = (box.scrollLeft + px) / G.zoom, gy = (box.scrollTop + py) / G.zoom;
      G.zoom = z;
      const spacer = document.getElementById("canvas-spacer"); spacer.style.width = G.L.W * z + "px"; spacer.style.height = G.L.H * z + "px";
      box.scrollLeft = Math.max(0, gx * z - px); box.scrollTop = Math.max(0, gy * z - py);
      document.getElementById("zoom-level").textContent = Math.round(z * 100) + "%";
      draw();
    }
    box.addEventListener("wheel", ev => {
      if (!G.L) return;
      ev.preventDefault();
      const rect = box.getBoundingClientRect(), step = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
      zoomTo(G.zoom * Math.exp(-step * 0.0015), ev.clientX - rect.left, ev.clientY - rect.top);
    }, {passive: false});
    document.getElementById("zoom-reset").onclick = () => { zoomTo(1, 0, 0); box.scrollLeft = 0; box.scrollTop = 0; };

    /// Dragging the background pans (scrolls the box); a drag of more than 3 px is not a click.
    const drag = {on: false, moved: false, x: 0, y: 0, left: 0, top: 0};
    canvas.addEventListener("mousedown", ev => {
      if (ev.button !== 0 || hit(ev) >= 0) return;
      Object.assign(drag, {on: true, moved: false, x: ev.clientX, y: ev.clientY, left: box.scrollLeft, top: box.scrollTop});
      ev.preventDefault();
    });
    window.addEventListener("mousemove", ev => {
      if (!drag.on) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; canvas.style.cursor = "grabbing"; }
      box.scrollLeft = drag.left - dx; box.scrollTop = drag.top - dy;
    });
    window.addEventListener("mouseup", () => { if (drag.on) { drag.on = false; canvas.style.cursor = "default"; } });

    function hit(ev) {
      const rect = canvas.getBoundingClientRect(), L = G.L, z = G.zoom;
      const mx = (ev.clientX - rect.left + box.scrollLeft) / z, my = (ev.clientY - rect.top + box.scrollTop) / z;
      if (!L) return -1;
      let best = -1, bd = 1e9;
      for (let gx = Math.floor(mx / 24) - 1; gx <= Math.floor(mx / 24) + 1; gx++) for (let gy = Math.floor(my / 24) - 1; gy <= Math.floor(my / 24) + 1; gy++) {
        for (const i of (L.grid.get(gx + "," + gy) || [])) { const dd = Math.hypot(L.x[i] - mx, L.y[i] - my); if (dd < L.r[i] + 4 / z && dd < bd) { bd = dd; best = i; } }
      }
      return best;
    }

    function nodeLabel(n) {
      const d = G.data, tok = JSON.stringify(d.tokens[n.pos] ?? "");
      switch (n.kind) {
        case "feature": return `L${n.layer}/F${n.feature} at ${tok} (pos ${n.pos})`;
        case "error": return `error L${n.layer} at ${tok} (pos ${n.pos})`;
        case "token": return `embedding ${tok} (pos ${n.pos})`;
        default: return `logit ${logitText(n)} (p = ${fmt(n.activation)})`;
      }
    }

    canvas.addEventListener("mousemove", ev => {
      if (drag.on) { tip.style.display = "none"; return; }
      const i = hit(ev);
      if (i < 0) { tip.style.display = "none"; canvas.style.cursor = "default"; return; }
      const n = G.data.nodes[i]; canvas.style.cursor = "pointer";
      tip.innerHTML = `<b>${esc(nodeLabel(n))}</b><br>activation ${fmt(n.activation)} · influence ${fmt(n.influence)}<br>${G.inE[i].length} inputs · ${G.outE[i].length} outputs`;
      tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 10) + "px"; tip.style.display = "block";
    });
    canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    canvas.addEventListener("click", ev => {
      if (drag.moved) { drag.moved = false; return; }
      const i = hit(ev); if (i < 0) return;
      const n = G.data.nodes[i];
      if ((ev.shiftKey || ev.metaKey || ev.ctrlKey || document.getElementById("select-mode").checked) && n.kind === "feature") {
        if (G.selected.has(i)) G.selected.delete(i); else G.selected.add(i);
        updateSelection(); draw(); return;
      }
      tip.style.display = "none"; G.focus = i; draw(); showDetails(i);
    });

    async function showDetails(i) {
      const d = G.data, n = d.nodes[i], f = G.flat, el = document.getElementById("details");
      const list = (ks, end) => ks.slice().sort((a, b) => Math.abs(f[b + 2]) - Math.abs(f[a + 2])).slice(0, 10)
        .map(k => [esc(nodeLabel(d.nodes[f[k + end]])), `<span style="color:${f[k + 2] < 0 ? "#dc2626" : "#2563eb"}">${fmt(f[k + 2])}</span>`]);
      let s = `<h3 id="node-title">${esc(nodeLabel(n))}</h3><div class="muted">activation ${fmt(n.activation)} · influence ${fmt(n.influence)} · key <code>${esc(n.key)}</code></div>`;
      if (n.kind === "feature") s += `<div id="feature-details" class="muted">loading the dashboard of <a href="/feature/L${n.layer}/F${n.feature}">L${n.layer}/F${n.feature}</a>…</div>`;
      s += `<h3>Strongest inputs</h3>${table(["source", "weight"], list(G.inE[i], 0))}<h3>Strongest outputs</h3>${table(["target", "weight"], list(G.outE[i], 1))}`;
      el.innerHTML = s;
      if (n.kind === "feature") {
        try { const fj = await api(`/api/feature/L${n.layer}/F${n.feature}`); if (G.focus === i) document.getElementById("feature-details").outerHTML = `<div id="feature-details"><p>Feature <a href="/feature/L${n.layer}/F${n.feature}">L${n.layer}/F${n.feature}</a> (its page: all contexts, labels, global-weight partners)</p>${featureHTML(fj, true)}</div>`; }
        catch (err) { document.getElementById("feature-details").innerHTML = `<div class="error">${esc(err.message)}</div>`; }
      }
    }

    function updateSelection() { document.getElementById("selection-count").textContent = G.selected.size; }

    function showSupernodes() {
      document.getElementById("supernode-list").innerHTML = G.supernodes.length ? G.supernodes.map(sn =>
        `<div class="supernode"><b>${esc(sn.name)}</b> <span class="muted">${sn.nodes.length} nodes</span> <button data-name="${esc(sn.name)}" class="sn-del">delete</button><div>${sn.nodes.map(k => `<span class="pill">${esc(k)}</span>`).join("")}</div></div>`).join("")
        : `<p class="muted">None yet.</p>`;
      for (const b of document.querySelectorAll(".sn-del")) b.onclick = () => writeSupernodes("DELETE", null, b.dataset.name);
    }

    async function writeSupernodes(method, body, name) {
      const msg = document.getElementById("supernode-msg"); msg.innerHTML = "";
      try {
        const path = `/api/supernodes/${encodeURIComponent(PAGE.graph)}` + (name ? `?name=${encodeURIComponent(name)}` : "");
        G.supernodes = await api(path, {method, headers: {"Content-Type": "application/json"}, body: body ? JSON.stringify(body) : undefined});
        showSupernodes(); draw(); return true;
      } catch (err) { msg.innerHTML = `<div class="error" id="supernode-error">${esc(err.message)}</div>`; return false; }
    }

    document.getElementById("supernode-save").onclick = async () => {
      const name = document.getElementById("supernode-name").value.trim();
      const msg = document.getElementById("supernode-msg");
      if (!name || !G.selected.size) { msg.innerHTML = `<div class="error">Select feature nodes (shift-click or “select”) and give the group a name.</div>`; return; }
      if (await writeSupernodes("POST", {name, nodes: [...G.selected].map(i => G.data.nodes[i].key)}, null)) { G.selected.clear(); updateSelection(); draw(); }
    };

    /// Fetches the graph at `params`' thresholds; the texts around the canvas are set before it
    /// is laid out, so the layout sees the box's final size.
    async function load(params) {
      const q = new URLSearchParams(params || {}).toString();
      const errEl = document.getElementById("graph-error"); errEl.innerHTML = "";
      let d;
      try { d = await api(`/api/graph/${encodeURIComponent(PAGE.graph)}` + (q ? "?" + q : "")); }
      catch (err) { errEl.innerHTML = `<div class="error">${esc(err.message)}</div>`; throw err; }
      document.getElementById("graph-scores").textContent = `replacement ${fmt(d.replacement_score)} · completeness ${fmt(d.completeness_score)}`;
      const both = d.repruning === "both", direction = document.getElementById("threshold-direction");
      direction.textContent = both ? "↕ both ways" : "↓ tighten only";
      direction.title = both ? "Thresholds re-prune the unpruned graph: lower keeps less, higher brings nodes and edges back (1 = the unpruned graph)"
        : "Thresholds re-prune the stored, already pruned graph: lower keeps less; nothing beyond it comes back (1 = the stored graph)";
      for (const id of ["node-threshold", "edge-threshold"]) document.getElementById(id).title = both
        ? "Share of influence kept: lower prunes more, higher restores nodes and edges, up to 1 = the unpruned graph"
        : "Share of the stored graph's influence kept: lower prunes more; the stored graph is pruned already, so nothing beyond it (1) comes back";
      document.getElementById("pruning-note").textContent = (d.unpruned_source === "shard"
        ? "Corpus run keeping full graphs (pruning.keep_full_graphs): thresholds re-prune the unpruned graph from the prompt's shard, both ways."
        : both ? "Traced graph (graph.h5): thresholds re-prune the unpruned graph, both ways."
        : "Corpus run: shards keep pruned graphs, so thresholds re-prune the stored graph (1 = everything stored) and only tighten.")
        + (d.truncated ? ` Showing the ${d.nodes.length} strongest of ${d.total_nodes} nodes and ${d.edges.length} of ${d.total_edges} edges; the rest: /api/graph/${PAGE.graph}/nodes?offset=…` : "");
      setData(d);
    }

    document.getElementById("apply-thresholds").onclick = () => load({node_threshold: document.getElementById("node-threshold").value, edge_threshold: document.getElementById("edge-threshold").value});
    for (const id of ["node-threshold", "edge-threshold"]) document.getElementById(id).addEventListener("change", () => document.getElementById("apply-thresholds").click());

    /// Renders a synthetic layered graph of `nNodes` nodes and `nEdges` edges; returns the
    /// milliseconds from data to painted frame (the browser test's speed check).
    window.circuitsBench = (nNodes, nEdges) => new Promise(resolve => {
      let seed = 7; const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const nLayers = 12, nPos = 64, nodes = [], byRow = [];
      for (let i = 0; i < nNodes; i++) {
        const kind = i < nPos ? "token" : i < nPos + 10 ? "logit" : (i % 10 === 0 ? "error" : "feature");
        const layer = kind === "token" ? -1 : kind === "logit" ? nLayers : Math.floor(rnd() * nLayers);
        nodes.push({key: "n" + i, kind, layer, pos: kind === "token" ? i : kind === "logit" ? nPos - 1 : Math.floor(rnd() * nPos), feature: i, activation: rnd(), influence: rnd()});
      }
      const edges = [];
      for (let k = 0; k < nEdges; k++) { const a = Math.floor(rnd() * nNodes), b = Math.floor(rnd() * nNodes); edges.push([a, b, rnd() - 0.5]); }
      const t = performance.now();
      setData({id: "bench", prompt: "", tokens: Array.from({length: nPos}, (_, p) => "t" + p), logit_tokens: [], n_layers: nLayers, nodes, edges, repruning: "both", total_nodes: nNodes, total_edges: nEdges});
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t), 0));
    });

    (async () => {
      document.getElementById("graph-title").textContent = `Graph ${PAGE.graph}`;
      await load();
      const d = G.data;
      document.getElementById("prompt-text").textContent = d.prompt;
      if (d.repruning === "both") {
        if (d.node_threshold != null) document.getElementById("node-threshold").value = d.node_threshold;
        if (d.edge_threshold != null) document.getElementById("edge-threshold").value = d.edge_threshold;
      }
      try { G.supernodes = await api(`/api/supernodes/${encodeURIComponent(PAGE.graph)}`); } catch (err) { G.supernodes = []; }
      showSupernodes(); draw();
      requestAnimationFrame(() => setTimeout(() => {
        window.__circuits = {ready: true, interactiveMs: performance.now() - T0, navigationMs: performance.now(),
          nodeCount: () => G.data.nodes.length,
          /// Scrolls the node with `key` into view and returns its position on the canvas
          /// element (for real clicks in the browser test).
          revealNode: (key) => {
            const i = G.byKey.get(key), z = G.zoom; if (i === undefined) return null;
            box.scrollLeft = Math.max(0, G.L.x[i] * z - box.clientWidth / 2); box.scrollTop = Math.max(0, G.L.y[i] * z - box.clientHeight / 2); draw();
            return {x: G.L.x[i] * z - box.scrollLeft, y: G.L.y[i] * z - box.scrollTop};
          },
          nodes: () => G.data.nodes.map(n => n.key),
          /// The zoom factor, and the graph point at the box's top left (graph units).
          view: () => ({zoom: G.zoom, x: box.scrollLeft / G.zoom, y: box.scrollTop / G.zoom}),
          /// The key of the node drawn at (x, y) on the canvas element, or null (background).
          nodeAt: (x, y) => { const r = canvas.getBoundingClientRect(), i = hit({clientX: r.left + x, clientY: r.top + y}); return i < 0 ? null : G.data.nodes[i].key; }};
      }, 0));
    })();
    """#
}
