/// `/assets/common.js`: fetching the API, formatting, and the feature details that the graph
/// page's side panel and the feature page both draw.
enum CommonScript {
    static let js = #"""
    "use strict";
    const PAGE = JSON.parse(document.body.dataset.page || "{}");
    async function api(path, options) {
      const r = await fetch(path, options);
      const body = await r.json().catch(() => ({error: `HTTP ${r.status}`}));
      if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
      return body;
    }
    function esc(s) { return String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c])); }
    function fmt(x) {
      if (x === null || x === undefined || x === "") return "–";
      const v = Number(x); if (!isFinite(v)) return String(x);
      const a = Math.abs(v);
      return (a !== 0 && (a < 0.001 || a >= 10000)) ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : 3);
    }
    function featureLink(id) { const m = /^L(\d+)\/F(\d+)$/.exec(id); return m ? `<a href="/feature/L${m[1]}/F${m[2]}">${esc(id)}</a>` : esc(id); }
    function graphLink(id) { return `<a href="/graph/${encodeURIComponent(id)}">${esc(id)}</a>`; }
    /// Tokens with the one at `pos` highlighted (the BOS token dropped); word-level
    /// vocabularies, whose tokens carry no leading space, get spaces between tokens.
    function contextHTML(tokens, pos) {
      const sep = tokens.slice(1).some(t => /^[\s\u0120]/.test(t)) ? "" : " ";
      return tokens.map((t, i) => i === 0 && pos !== 0 ? null : (i === pos ? `<span class="hit">${esc(t)}</span>` : `<span class="tok">${esc(t)}</span>`)).filter(x => x !== null).join(sep);
    }
    function histogramSVG(h, label) {
      if (!h) return "";
      const W = 330, H = 110, L = 28, B = 22, peak = Math.max(1, ...h.counts), bw = (W - L - 8) / h.counts.length;
      let s = `<svg width="${W}" height="${H}" role="img" aria-label="${esc(label)}">`;
      h.counts.forEach((c, k) => { if (c > 0) { const bh = (H - B - 8) * c / peak; s += `<rect x="${L + k * bw + 1}" y="${H - B - bh}" width="${bw - 2}" height="${bh}" fill="#f59e0b"><title>${c}</title></rect>`; } });
      s += `<line x1="${L}" y1="${H - B}" x2="${W - 8}" y2="${H - B}" stroke="#999"/>`;
      s += `<text x="${L}" y="${H - 6}">${fmt(h.lower)}</text><text x="${W - 8}" y="${H - 6}" text-anchor="end">${fmt(h.upper)}</text>`;
      s += `<text x="2" y="14">${peak}</text><text x="2" y="${H - B}">0</text>`;
      return s + `</svg><div class="muted">${esc(label)}</div>`;
    }
    function table(header, rows) {
      if (!rows.length) return `<p class="muted">None.</p>`;
      return `<table><tr>${header.map(h => `<th>${esc(h)}</th>`).join("")}</tr>${rows.map(r => `<tr>${r.map(c => `<td>${c}</td>`).join("")}</tr>`).join("")}</table>`;
    }
    /// circuit-tracer feature JSON (a dashboard): quantile examples and top / bottom logits.
    function dashboardHTML(d, compact) {
      let s = "";
      const logits = (xs) => (xs || []).slice(0, compact ? 8 : 20).map(x => `<span class="pill">${esc(Array.isArray(x) ? `${x[0]} ${fmt(x[1])}` : (x.token ?? x))}</span>`).join("");
      if (d.top_logits) s += `<h3>Top logits</h3><div id="top-logits">${logits(d.top_logits)}</div>`;
      if (d.bottom_logits) s += `<h3>Bottom logits</h3><div>${logits(d.bottom_logits)}</div>`;
      for (const q of (d.examples_quantiles || []).slice(0, compact ? 1 : 20)) {
        s += `<h3>${esc(q.quantile_name || "examples")}</h3>`;
        for (const ex of (q.examples || []).slice(0, compact ? 5 : 10)) {
          const acts = ex.tokens_acts_list || [], top = Math.max(1e-9, ...acts);
          // One span per token (spaced: word-level tokenizers carry no spaces); the activating
          // token outlined, every token shaded by the feature's activation on it.
          s += `<div class="ctx dash-ctx">${(ex.tokens || []).map((t, i) => { const a = (acts[i] || 0) / top; const hit = i === ex.train_token_ind ? " dash-hit" : ""; return `<span class="dash-tok${hit}"${a > 0 ? ` style="background:rgba(245,158,11,${a.toFixed(2)})"` : ""}>${esc(t)}</span>`; }).join("")}</div>`;
        }
      }
      return s;
    }
    /// The details of /api/feature/...: dashboard (or the note saying there is none), contexts
    /// in the traced graphs, histogram, label statistics, recurrence, global-weight partners.
    function featureHTML(f, compact) {
      let s = "";
      s += `<div class="cards${compact ? " small" : ""}"><div class="card"><b>${f.graph_prompts}</b>graphs holding it</div>`;
      if (f.corpus) s += `<div class="card"><b>${fmt(f.corpus.density)}</b>corpus density</div><div class="card"><b>${fmt(f.corpus.mean_active_activation)}</b>mean activation when active</div>`;
      if (f.recurring) s += `<div class="card"><b>${fmt(f.recurring.mean_influence)}</b>mean influence (report)</div>`;
      s += `</div>`;
      const note = compact ? "No dashboard data for this feature; the contexts below come from the traced graphs." : (f.dashboard_note || "No dashboard data.");
      s += f.dashboard ? `<div id="dashboard">${dashboardHTML(f.dashboard, compact)}</div>` : `<div class="note" id="dashboard-note" title="${esc(f.dashboard_note || "")}">${esc(note)}</div>`;
      let left = `<h3>Contexts in traced graphs</h3><div id="contexts">`;
      left += f.contexts.length ? `<table class="contexts">` + f.contexts.slice(0, compact ? 8 : 50).map(c => `<tr class="ctx-row"><td class="ctx">${contextHTML(c.tokens, c.pos)}</td><td>${graphLink(c.prompt_id)}</td><td class="n" title="activation">${fmt(c.activation)}</td></tr>`).join("") + `</table>` : `<p class="muted">In no pruned graph.</p>`;
      left += `</div>`;
      if (f.contexts.length < f.graph_prompts) left += `<p class="muted">The ${f.contexts.length} strongest of its occurrences in ${f.graph_prompts} graphs.</p>`;
      let right = "";
      if (f.graph_activation_histogram) right += `<h3>Activation in the graphs</h3>` + histogramSVG(f.graph_activation_histogram, "occurrences per activation bin");
      if (f.labels && f.labels.length) right += `<h3>Labels it fires on</h3>` + table(["label", "active / prompts", "mean peak", "responds"], f.labels.slice(0, compact ? 6 : 30).map(l => [esc(l.label), `${l.active_prompts} / ${l.label_prompts}`, fmt(l.mean_peak_activation), l.responding ? "yes" : ""]));
      if (!compact) right += partnersHTML(f.global_weights);
      return s + (compact ? left + right : `<div class="grid2"><div>${left}</div><div>${right}</div></div>`);
    }
    function partnersHTML(gw) {
      if (!gw) return `<h2>Global weights</h2><p class="muted">No global_weights.h5 in this run (<code>circuits global-weights OUT --top N</code> or <code>--all</code> writes it).</p>`;
      const side = (name, r) => {
        if (!r) return `<h3>${name}</h3><p class="muted">Not on this side of global_weights.h5.</p>`;
        const rows = (xs) => xs.map(p => [featureLink(p.feature), fmt(p.twera), fmt(p.era), fmt(p.virtual_weight), String(p.coactivation_count)]);
        const h = ["feature", "TWERA", "ERA", "V", "co-active"];
        return `<h3>${name}</h3>` + [["twera", r.by_twera], ["era", r.by_era], ["v", r.by_virtual_weight], ["removed", r.removed_by_filter || []]]
          .map(([k, xs]) => `<div class="rank rank-${k}"${k === "twera" ? "" : " hidden"}>${xs.length ? table(h, rows(xs)) : `<p class="muted">None.</p>`}</div>`).join("");
      };
      const removed = (gw.upstream && gw.upstream.removed_by_filter) || (gw.downstream && gw.downstream.removed_by_filter);
      return `<h2>Global-weight partners</h2><label class="muted">strongest by <select id="partner-rank" onchange="for (const el of document.querySelectorAll('.rank')) el.hidden = !el.classList.contains('rank-' + this.value)"><option value="twera">|TWERA|</option><option value="era">|ERA|</option><option value="v">|V|</option>${removed ? `<option value="removed">|V|, never co-active (removed)</option>` : ""}</select></label>`
        + `<div id="partners">${side("Upstream (sources)", gw.upstream)}${side("Downstream (targets)", gw.downstream)}</div>`;
    }
    """#
}
