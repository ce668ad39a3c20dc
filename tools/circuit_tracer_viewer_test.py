#!/usr/bin/env python3
"""Opens `circuits export`'s output in circuit-tracer's own local viewer, in headless Chromium.

circuit-tracer's viewer (its PyPI wheel's `circuit_tracer/frontend/assets`, unmodified) is served
by circuit-tracer's own server (`circuit_tracer.frontend.local_server.serve`, the function its
`start-server` command calls) with the export folder as its `data_dir`. The viewer's page loads
d3 and d3-jetpack from transformer-circuits.pub and two more libraries from unpkg.com; Chromium
resolves those two hosts to a local HTTPS server (self-signed certificate, accepted by the
browser) that serves d3 7.9.0 (from the `tuna` wheel on PyPI), dagre 0.8.5 (Debian's
node-dagre-layout) and tools/circuit_tracer_viewer/d3-jetpack-standin.js; their other files (a
live-reload client, an .npy reader, pako, none of them used on this path) are answered 404, and every other host resolves to nothing, so the page can reach no other network.

Checks: the graph renders (one SVG node per graph node); clicking a feature node shows, in the
viewer's feature panel, the top activating contexts of that feature's exported file (from our
dashboards) and its promoted tokens, fetched from the export folder. Exits non-zero on failure.

    python3 tools/circuit_tracer_viewer_test.py --circuits .build/release/circuits --run out/demo \
        --prompt csc-000 --circuit-tracer DIR --d3 d3.min.js --dagre dagre.min.js [--screenshot PNG]

`--circuit-tracer DIR` is a folder holding the `circuit_tracer` package (`pip install --no-deps
--target DIR circuit-tracer==0.5.0`); the server imports only its frontend module (no torch).
"""
import argparse, http.server, json, os, shutil, socket, ssl, subprocess, sys, tempfile, threading, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = "/2025/attribution-graphs/static_js/lib/"

def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok   {what}")

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def cdn_server(files, work):
    """HTTPS on 127.0.0.1 serving `files` (URL path -> local file); 404 for anything else."""
    key, cert = os.path.join(work, "cdn.key"), os.path.join(work, "cdn.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    requested = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            requested.append(path)
            if path not in files:
                self.send_response(404)
                self.end_headers()
                return
            body = open(files[path], "rb").read()
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, requested

def browser(cdn_port, width=1500, height=950):
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    rules = (f"MAP transformer-circuits.pub 127.0.0.1:{cdn_port},MAP unpkg.com 127.0.0.1:{cdn_port},"
             "MAP * ~NOTFOUND,EXCLUDE localhost,EXCLUDE 127.0.0.1")
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}",
              "--force-device-scale-factor=1", "--ignore-certificate-errors", f"--host-resolver-rules={rules}"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=o)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--circuits", default=".build/release/circuits")
    ap.add_argument("--run", default="out/demo", help="a merged run folder with feature dashboards")
    ap.add_argument("--prompt", default="csc-000", help="the prompt whose graph is exported")
    ap.add_argument("--circuit-tracer", required=True, help="folder holding the circuit_tracer package")
    ap.add_argument("--d3", required=True, help="d3.js 7 (UMD build)")
    ap.add_argument("--dagre", required=True, help="dagre 0.8.5 (dist/dagre.min.js, dependencies bundled)")
    ap.add_argument("--screenshot", default="", help="PNG of the viewer with the clicked feature ('' for none)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="circuits-ct-viewer-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    out = subprocess.run([args.circuits, "export", args.run, "--prompt", args.prompt, "--out", os.path.join(data, args.prompt + ".json")],
                         capture_output=True, text=True)
    check(out.returncode == 0, f"circuits export {args.run} --prompt {args.prompt}: {out.stdout.strip()} {out.stderr.strip()}")
    graph = json.load(open(os.path.join(data, args.prompt + ".json")))
    check(os.path.exists(os.path.join(data, "graph-metadata.json")), "graph-metadata.json (the viewer's list of graphs) is written beside the graph")
    index = json.load(open(os.path.join(data, "graph-metadata.json")))
    check([g["slug"] for g in index["graphs"]] == [args.prompt], "graph-metadata.json lists the exported graph")
    scan = graph["metadata"]["scan"]

    # circuit-tracer's own server, imported from its wheel.
    sys.path.insert(0, os.path.abspath(args.circuit_tracer))
    from circuit_tracer.frontend.local_server import serve, DEFAULT_FRONTEND_DIR
    port = free_port()
    server = serve(data_dir=data, port=port)
    cdn, cdn_requests = cdn_server({LIB + "d3.js": args.d3,
                                    LIB + "jetpack_2024-07-20.js": os.path.join(HERE, "circuit_tracer_viewer", "d3-jetpack-standin.js"),
                                    "/dagre@0.8.5/dist/dagre.min.js": args.dagre}, work)
    d = browser(cdn.server_address[1])
    try:
        d.get(f"http://localhost:{port}/index.html?slug={args.prompt}")
        WebDriverWait(d, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".link-graph text.node")) > 0)
        time.sleep(0.5)
        rendered = d.execute_script("return Array.from(document.querySelectorAll('.link-graph text.node')).map(e => d3.select(e).datum().node_id)")
        # The viewer's pruning slider starts at the graph's node_threshold and shows token and logit
        # nodes and the nodes whose cumulative influence is at most that (util-cg.js).
        threshold = graph["metadata"]["node_threshold"]
        shown = [n["node_id"] for n in graph["nodes"] if n["feature_type"] in ("embedding", "logit") or n["influence"] <= threshold]
        check(sorted(rendered) == sorted(shown) and len(shown) >= len(graph["nodes"]) - 2,
              f"the graph renders: {len(rendered)} SVG nodes, one per node of the document within the viewer's "
              f"pruning threshold {threshold} ({len(shown)} of {len(graph['nodes'])})")
        ticks = d.execute_script("return Array.from(document.querySelectorAll('.prompt-token')).map(e => e.textContent)")
        check(len(ticks) > 0, f"the prompt's tokens label the x axis ({len(ticks)} ticks)")

        # Click the most influential feature node whose feature file the export wrote.
        features = [n for n in graph["nodes"] if n["feature_type"] == "cross layer transcoder" and n["node_id"] in rendered]
        node = min(features, key=lambda n: n["influence"])
        feature = json.load(open(os.path.join(data, "features", scan.removeprefix("./data/features/"), f"{node['feature']}.json")))
        el = d.execute_script("return Array.from(document.querySelectorAll('.link-graph text.node')).find(e => d3.select(e).datum().node_id == arguments[0])", node["node_id"])
        ActionChains(d).move_to_element(el).click().perform()
        try:
            WebDriverWait(d, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".feature-detail .feature-example-list .ctx-container")) > 0)
        except TimeoutException:
            check(False, f"the feature panel shows examples within 20 s (scan {scan!r}; the viewer asked its server for "
                         f"{[l.split('request for ')[-1] for l in server.get_logs() if 'features' in l]})")
        title = d.find_element(By.CSS_SELECTOR, ".feature-detail .feature-title").text
        layer, index_ = node["node_id"].split("_")[:2]
        check(f"{layer}/{index_}" in title, f"clicking node {node['node_id']} opens its feature panel ({title!r})")
        contexts = d.execute_script("return Array.from(document.querySelectorAll('.feature-detail .feature-example-list .ctx-container')).map(e => e.textContent)")
        expected = ["".join(e["tokens"]) for q in feature["examples_quantiles"] for e in q["examples"]]
        check(contexts == expected, f"the panel shows the feature file's {len(expected)} contexts in order, top activation first ({contexts[0]!r})")
        quantiles = d.execute_script("return Array.from(document.querySelectorAll('.feature-detail .quantile-title')).map(e => e.textContent.trim())")
        check(quantiles == [q["quantile_name"] for q in feature["examples_quantiles"]], f"quantile groups {quantiles}")
        top = d.execute_script("return document.querySelector('.feature-detail .train_token_ind').textContent")
        first = feature["examples_quantiles"][0]["examples"][0]
        check(top == first["tokens"][first["train_token_ind"]], f"the top context's activating token is marked ({top!r})")
        logits = d.execute_script("return Array.from(document.querySelectorAll('.feature-detail .feature-example-logits .ctx-container')).map(r => Array.from(r.querySelectorAll('.token')).map(t => t.textContent))")
        check(logits[:1] == [feature["top_logits"]], f"promoted tokens {logits[0][:4]}...")
        logs = "\n".join(server.get_logs())
        check(f"/data/features/{scan.removeprefix('./data/features/')}/{node['feature']}.json" in logs,
              "the feature file was fetched from the export folder through circuit-tracer's server")
        served = sorted(p.split("/")[-1] for p in cdn_requests if p in (LIB + "d3.js", LIB + "jetpack_2024-07-20.js", "/dagre@0.8.5/dist/dagre.min.js"))
        check(served == ["d3.js", "dagre.min.js", "jetpack_2024-07-20.js"], f"the page's d3, d3-jetpack and dagre came from the local stand-in hosts ({served})")
        errors = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE" and "404" not in e["message"]
                  and "hotserver" not in e["message"]]
        check(not errors, f"no page errors besides the 404s of the libraries not served {errors[:3]}")
        if args.screenshot:
            os.makedirs(os.path.dirname(args.screenshot) or ".", exist_ok=True)
            d.save_screenshot(args.screenshot)
            print(f"screenshot {args.screenshot}")
    finally:
        d.quit()
        server.stop()
        cdn.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print(f"circuit-tracer viewer: {DEFAULT_FRONTEND_DIR} served {args.prompt} with our feature files")

if __name__ == "__main__":
    main()
