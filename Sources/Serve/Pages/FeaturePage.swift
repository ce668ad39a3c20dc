/// `/feature/L{layer}/F{index}`: one feature's dashboard (or the note that the run has none),
/// the traced graphs that hold it, its label statistics and global-weight partners.
enum FeaturePageBody {
    static let html = #"""
    <h1 id="feature-title">Feature</h1>
    <div id="feature-error"></div>
    <div id="feature-body" class="muted">loading…</div>
    """#

    static let script = #"""
    "use strict";
    (async () => {
      document.getElementById("feature-title").textContent = `Feature ${PAGE.feature}`;
      try {
        const f = await api(`/api/feature/${PAGE.feature}`);
        let s = featureHTML(f, false);
        if (f.recurring) s += `<h2>In the report</h2><p>Recurs in ${f.recurring.prompts} pruned graphs; mean activation ${fmt(f.recurring.mean_activation)}, mean influence ${fmt(f.recurring.mean_influence)}.</p>`;
        const el = document.getElementById("feature-body"); el.className = ""; el.innerHTML = s;
      } catch (err) {
        document.getElementById("feature-body").innerHTML = "";
        document.getElementById("feature-error").innerHTML = `<div class="error">${esc(err.message)}</div>`;
      }
      window.__circuits = {ready: true};
    })();
    """#
}
