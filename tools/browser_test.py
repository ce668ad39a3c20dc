#!/usr/bin/env python3
"""Browser test of `circuits serve` in headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium): report, graph page, node click with dashboard contexts, threshold change,
supernode persisted across reload, feature and search pages; screenshots into docs/images/;
speed (graph page interactive, 10,000-node / 100,000-edge render). Exits non-zero on failure.

    python3 tools/browser_test.py --circuits .build/release/circuits --run out/demo [--screenshots docs/images]
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.support.ui import WebDriverWait

def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok   {what}")

def start_server(circuits, folder):
    p = subprocess.Popen([circuits, "serve", folder, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if not url:
        raise RuntimeError(f"serve did not start: {line} {p.stderr.read()}")
    return p, url.rstrip("/")

def browser(width=1500, height=950):
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}",
              "--force-device-scale-factor=1"]:
        o.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=o)

def wait_ready(d, timeout=20):
    WebDriverWait(d, timeout).until(lambda d: d.execute_script("return !!(window.__circuits && window.__circuits.ready)"))

def click_node(d, key):
    canvas = d.find_element(By.ID, "graph-canvas")
    pos = d.execute_script("return window.__circuits.revealNode(arguments[0])", key)
    size = canvas.size
    ActionChains(d).move_to_element_with_offset(canvas, int(pos["x"] - size["width"] / 2), int(pos["y"] - size["height"] / 2)).click().perform()

def api_json(base, path):
    return json.loads(subprocess.run(["curl", "-s", base + path], capture_output=True, text=True).stdout)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--circuits", default=".build/release/circuits")
    ap.add_argument("--run", default="out/demo", help="a merged run folder (left untouched: a copy is served)")
    ap.add_argument("--screenshots", default="docs/images", help="folder for the page screenshots ('' for none)")
    ap.add_argument("--results", default="", help="write the measurements here as JSON")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="circuits-browser-")
    run = os.path.join(work, os.path.basename(os.path.abspath(args.run)))
    shutil.copytree(args.run, run, ignore=shutil.ignore_patterns("shards", "logs", "supernodes.json"))
    server, base = start_server(args.circuits, run)
    d = browser()
    shots = args.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)
    results = {}
    try:
        # The report at / itself.
        d.get(base + "/")
        check("Circuit report" in d.title, "report at / (title: %s)" % d.title)
        feature_links = d.find_elements(By.CSS_SELECTOR, "a[href^='/feature/']")
        graph_links = d.find_elements(By.CSS_SELECTOR, "a[href^='/graph/']")
        check(len(feature_links) > 5 and len(graph_links) > 5, f"report links features ({len(feature_links)}) and graphs ({len(graph_links)})")
        if shots:
            d.save_screenshot(os.path.join(shots, "serve-report.png"))

        # A two-hop prompt's graph.
        prompts = json.loads(subprocess.run(["curl", "-s", base + "/api/prompts?limit=10000"], capture_output=True, text=True).stdout)["items"]
        done = [p for p in prompts if p["status"] == "done"]
        pick = next((p for p in done if "containing dallas" in p["prompt"]), done[0])
        gid = pick["id"]
        d.get(base + "/graph/" + gid)
        wait_ready(d)
        timing = d.execute_script("return {interactive: window.__circuits.navigationMs, script: window.__circuits.interactiveMs}")
        results["demo_graph_interactive_ms"] = round(timing["interactive"], 1)
        check(timing["interactive"] <= 1000, f"demo graph {gid} interactive in {timing['interactive']:.0f} ms (≤ 1000)")
        n0 = int(d.find_element(By.ID, "node-count").text)
        check(n0 > 10, f"graph drawn with {n0} nodes")

        # Click the strongest feature node: its dashboard appears, with contexts.
        keys = d.execute_script("return window.__circuits.nodes()")
        features = [k for k in keys if k.startswith("L")]
        click_node(d, features[0])
        WebDriverWait(d, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#contexts .ctx-row"))
        rows = d.find_elements(By.CSS_SELECTOR, "#contexts .ctx-row")
        check(len(rows) >= 1 and d.find_elements(By.CSS_SELECTOR, "#contexts .hit"), f"dashboard of {features[0]}: {len(rows)} contexts with the active token marked")
        check("Strongest inputs" in d.find_element(By.ID, "details").text, "node details list inputs and outputs")
        if shots:
            d.save_screenshot(os.path.join(shots, "serve-graph.png"))

        # Thresholds: the node count changes.
        for name, value in [("node-threshold", "0.5"), ("edge-threshold", "0.8")]:
            el = d.find_element(By.ID, name); el.clear(); el.send_keys(value)
        d.find_element(By.ID, "apply-thresholds").click()
        WebDriverWait(d, 15).until(lambda d: d.find_element(By.ID, "node-count").text != str(n0))
        n1 = int(d.find_element(By.ID, "node-count").text)
        check(n1 < n0, f"thresholds 0.5 / 0.8: {n0} → {n1} nodes")
        direction = d.find_element(By.ID, "threshold-direction").text
        both = api_json(base, "/api/graph/" + gid)["repruning"] == "both"
        check(("both ways" in direction) if both else ("tighten only" in direction), f"threshold controls say which way they move: {direction!r}")

        # Pan and zoom: a real mouse wheel over the canvas zooms in, a drag on the background pans,
        # and a node is still hit where it is drawn.
        canvas = d.find_element(By.ID, "graph-canvas")
        ActionChains(d).scroll_from_origin(ScrollOrigin.from_element(canvas), 0, -400).perform()
        WebDriverWait(d, 5).until(lambda d: d.execute_script("return window.__circuits.view().zoom") > 1.2)
        v0 = d.execute_script("return window.__circuits.view()")
        check(d.find_element(By.ID, "zoom-level").text != "100%", f"mouse wheel zooms in to {v0['zoom']:.2f}×")
        size = canvas.size
        # A background point (no node under it) to drag from.
        spot = next((x, y) for y in range(30, size["height"] - 30, 20) for x in range(30, size["width"] - 30, 20)
                    if d.execute_script("return window.__circuits.nodeAt(arguments[0], arguments[1])", x, y) is None)
        ActionChains(d).move_to_element_with_offset(canvas, int(spot[0] - size["width"] / 2), int(spot[1] - size["height"] / 2)) \
            .click_and_hold().move_by_offset(120, 60).release().perform()
        v1 = d.execute_script("return window.__circuits.view()")
        check(v1["x"] < v0["x"] or v1["y"] < v0["y"], f"dragging the background pans: ({v0['x']:.0f}, {v0['y']:.0f}) → ({v1['x']:.0f}, {v1['y']:.0f})")
        keys1 = d.execute_script("return window.__circuits.nodes()")
        f1 = [k for k in keys1 if k.startswith("L")]
        if f1:
            click_node(d, f1[0])
            WebDriverWait(d, 10).until(lambda d: d.find_elements(By.ID, "node-title"))
            title = d.find_element(By.ID, "node-title").text
            check(title.startswith(f1[0].split("@")[0] + " at "), f"a click at {v1['zoom']:.2f}× hits {f1[0]} ({title!r})")

        # A supernode from two real clicks, persisted across a reload.
        d.get(base + "/graph/" + gid)
        wait_ready(d)
        d.find_element(By.ID, "select-mode").click()
        for k in features[:2]:
            click_node(d, k)
        check(d.find_element(By.ID, "selection-count").text == "2", "two features selected by clicking")
        d.find_element(By.ID, "supernode-name").send_keys("bridge")
        d.find_element(By.ID, "supernode-save").click()
        WebDriverWait(d, 10).until(lambda d: "bridge" in d.find_element(By.ID, "supernode-list").text)
        d.refresh()
        wait_ready(d)
        WebDriverWait(d, 10).until(lambda d: "bridge" in d.find_element(By.ID, "supernode-list").text)
        check(os.path.exists(os.path.join(run, "supernodes.json")), "supernode 'bridge' persists across reload (supernodes.json)")
        click_node(d, features[0])
        WebDriverWait(d, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#contexts .ctx-row"))
        if shots:
            d.save_screenshot(os.path.join(shots, "serve-graph-supernode.png"))

        # The feature page of the feature in the most graphs, with its global-weight partners
        # when the run has global_weights.h5.
        api = lambda path: json.loads(subprocess.run(["curl", "-s", base + path], capture_output=True, text=True).stdout)
        fid = api("/api/features?limit=1")["items"][0]["feature"]
        d.get(base + "/feature/" + fid)
        wait_ready(d)
        check(len(d.find_elements(By.CSS_SELECTOR, "#contexts .ctx-row")) >= 1
              and len(d.find_elements(By.CSS_SELECTOR, "#dashboard .dash-ctx .dash-hit")) >= 1
              and d.find_elements(By.CSS_SELECTOR, "#top-logits .pill"),
              f"feature page {fid}: its corpus dashboard (top contexts with the activating token outlined, top logits) and its graphs' contexts")
        if api("/api/info")["global_weights"]:
            check(len(d.find_elements(By.CSS_SELECTOR, "#partners a[href^='/feature/']")) >= 1, f"feature page {fid}: global-weight partners")
        if shots:
            d.save_screenshot(os.path.join(shots, "serve-feature.png"))

        # Search by token.
        d.get(base + "/search?q=dallas")
        wait_ready(d)
        WebDriverWait(d, 10).until(lambda d: "Tokens" in d.find_element(By.ID, "search-results").text)
        check(len(d.find_elements(By.CSS_SELECTOR, "#search-results a[href^='/graph/']")) >= 1, "search 'dallas' finds prompts and tokens")
        if shots:
            d.save_screenshot(os.path.join(shots, "serve-search.png"))

        # Speed: a 10,000-node / 100,000-edge graph on the canvas.
        d.get(base + "/graph/" + gid)
        wait_ready(d)
        d.set_script_timeout(60)
        times = [d.execute_async_script("window.circuitsBench(10000, 100000).then(arguments[arguments.length - 1])") for _ in range(3)]
        results["render_10k_nodes_100k_edges_ms"] = [round(t, 1) for t in times]
        check(min(times) <= 2000, f"10,000 nodes / 100,000 edges rendered in {', '.join(f'{t:.0f}' for t in times)} ms (≤ 2000)")
    finally:
        d.quit()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results))
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=2)

if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL {e}", file=sys.stderr)
        sys.exit(1)
