/// `/assets/viewer.css`: the stylesheet of every page.
enum ViewerStyle {
    static let css = #"""
    :root{--pos:#2563eb;--neg:#dc2626;--feat:#f59e0b;--err:#9ca3af;--tok:#16a34a;--logit:#7c3aed;--muted:#6b7280;--line:#e5e7eb}
    *{box-sizing:border-box}
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2937;background:#fff}
    body.report{max-width:1100px;margin:0 auto;padding:0 1em 2em}
    main{padding:0 1.2em 2em}
    nav.top{display:flex;gap:1.1em;align-items:center;padding:.55em 1.2em;border-bottom:1px solid var(--line);background:#f9fafb;margin:0 0 .8em}
    body.report nav.top{margin:0 -1em .8em}
    nav.top a{color:#374151;text-decoration:none}nav.top a:hover{text-decoration:underline}
    nav.top .brand{font-weight:700;color:#111827}
    nav.top form{margin-left:auto}nav.top input{width:22em;padding:.3em .6em;border:1px solid #d1d5db;border-radius:6px}
    h1{font-size:1.4em;margin:.4em 0}h2{font-size:1.1em;margin:1.4em 0 .5em;border-bottom:1px solid var(--line)}
    h3{font-size:1em;margin:1em 0 .3em}
    a{color:#1d4ed8}
    table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #f0f0f0;text-align:left;vertical-align:top}
    td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
    .muted{color:var(--muted)}.note{background:#fffbeb;border:1px solid #fde68a;border-radius:6px;padding:.5em .8em;margin:.6em 0}
    .error{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;border-radius:6px;padding:.5em .8em;margin:.6em 0}
    .cards{display:flex;gap:.8em;flex-wrap:wrap}.card{border:1px solid var(--line);border-radius:6px;padding:.4em .9em}
    .card b{display:block;font-size:1.3em}.cards.small .card{padding:.2em .6em;font-size:12px}.cards.small .card b{font-size:1.1em}
    table.contexts td.ctx{max-width:46em}.side table.contexts td.ctx{max-width:16em}
    .ctx{font-family:ui-monospace,Menlo,monospace;font-size:12.5px;white-space:pre-wrap;word-break:break-word}
    .ctx .hit{background:#fde68a;border-radius:3px;padding:0 2px;font-weight:600}
    .ctx .tok{opacity:.85}
    .dash-ctx .dash-tok{margin-right:.3em;border-radius:3px;padding:0 1px}.dash-ctx .dash-hit{outline:2px solid #b45309;font-weight:600}
    .toolbar{display:flex;flex-wrap:wrap;gap:1em;align-items:center;margin:.4em 0 .6em}
    .toolbar label{display:flex;gap:.4em;align-items:center}
    .toolbar input[type=number]{width:5.2em}
    .toolbar.note-row{justify-content:space-between;margin-top:-.2em}
    .stat{font-variant-numeric:tabular-nums;background:#f3f4f6;border-radius:4px;padding:1px 6px}
    .graph-wrap{display:grid;grid-template-columns:minmax(0,1fr) 380px;gap:1em}
    .canvas-box{position:relative;border:1px solid var(--line);border-radius:6px;overflow:auto;height:72vh;background:#fcfcfd}
    #canvas-spacer{position:relative}#graph-canvas{position:absolute;left:0;top:0}
    .side{border:1px solid var(--line);border-radius:6px;padding:.6em .9em;height:72vh;overflow:auto}
    .side h3:first-child{margin-top:.2em}
    #tooltip{position:fixed;pointer-events:none;background:#111827;color:#f9fafb;font-size:12px;padding:4px 8px;border-radius:4px;display:none;z-index:10;max-width:380px}
    .legend span{display:inline-flex;align-items:center;gap:.3em;margin-right:1em;font-size:12.5px}
    .legend i{display:inline-block;width:11px;height:11px;border-radius:50%}
    .legend i.sq{border-radius:2px}
    .pill{display:inline-block;border:1px solid #d1d5db;border-radius:999px;padding:0 .6em;margin:2px;font-size:12px}
    button{font:inherit;padding:.25em .8em;border:1px solid #d1d5db;border-radius:6px;background:#fff;cursor:pointer}
    button:hover{background:#f3f4f6}
    .grid2{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
    svg text{font:11px system-ui,sans-serif}
    """#
}
