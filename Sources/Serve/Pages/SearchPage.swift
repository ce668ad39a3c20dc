/// `/search?q=`: features by id, prompts by id or text, and positions by token.
enum SearchPageBody {
    static let html = #"""
    <h1>Search</h1>
    <form id="search-form" class="toolbar"><input name="q" id="search-q" size="40" placeholder="L0/F21, demo-007, dallas"><button>Search</button></form>
    <div id="search-results"></div>
    """#

    static let script = #"""
    "use strict";
    (async () => {
      const input = document.getElementById("search-q"); input.value = PAGE.q || "";
      const out = document.getElementById("search-results");
      if (PAGE.q) {
        try {
          const r = await api(`/api/search?q=${encodeURIComponent(PAGE.q)}`);
          let s = `<h2>Features (${r.features.length})</h2>` + table(["feature", "graphs holding it"], r.features.map(f => [featureLink(f.feature), String(f.graph_prompts)]));
          s += `<h2>Prompts (${r.prompts.length})</h2>` + table(["id", "prompt", "status", "label"], r.prompts.map(p => [p.status === "done" ? graphLink(p.id) : esc(p.id), esc(p.prompt), esc(p.status), esc(p.label || "")]));
          s += `<h2>Tokens (${r.tokens.length})</h2>` + table(["graph", "context"], r.tokens.map(t => [graphLink(t.prompt_id), `<span class="ctx">${contextHTML(t.tokens, t.pos)}</span> <span class="muted">pos ${t.pos}</span>`]));
          if (r.truncated) s += `<p class="muted">Only the first ${r.prompts.length} matches of each kind are shown.</p>`;
          out.innerHTML = s;
        } catch (err) { out.innerHTML = `<div class="error">${esc(err.message)}</div>`; }
      }
      window.__circuits = {ready: true};
    })();
    """#
}
