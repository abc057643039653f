"""What the browser tests share: headless Chromium through Selenium, page loads, screenshots, axe-core."""
import re
import json
import os

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.common.by import By


def load_plan(path):
    """The plan a Swift test wrote: (plan, the portal's base URL, axe-core's source, the screenshots folder)."""
    plan = json.load(open(path))
    os.makedirs(plan["screenshots"], exist_ok=True)
    return plan, plan["base"].rstrip("/"), open(plan["axe"]).read(), plan["screenshots"]


def start_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=fr-FR"]:
        options.add_argument(arg)
    # The console's messages (a Content-Security-Policy violation is one), read with get_log("browser").
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    return driver


def click_and_wait(driver, element, timeout=15):
    """Clicks and waits for the next page to load."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_):
        # The old document is gone once its root cannot be read any more (chromedriver says so with
        # "stale element" or "node does not belong to the document", depending on timing).
        try:
            old.tag_name
            return False
        except WebDriverException:
            return True
    WebDriverWait(driver, timeout).until(replaced)
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")


def screenshot(driver, folder, name):
    driver.save_screenshot(os.path.join(folder, f"{len(os.listdir(folder)):02d}-{name}.png"))


def axe_violations(driver, axe_source, label):
    """axe-core's WCAG 2.0/2.1 A and AA rules on the current page: a list of failure lines."""
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
        ".then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))}))"
        ".catch(e => done({error: String(e)}));")
    if "error" in result:
        return [f"{label}: axe did not run: {result['error']}"]
    return [f"{label}: {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in result.get("violations", [])]


def policy_violations(driver, label):
    """What the browser refused under the Content-Security-Policy since the last call (the console's messages)."""
    return [f"{label}: {entry['message'][:300]}" for entry in driver.get_log("browser")
            if "Content Security Policy" in entry.get("message", "")]


def overflow_on_phone(driver, label, width=390):
    """Whether the page is wider than a phone's screen (it then scrolls sideways as a whole): a failure line or None."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        sizes = driver.execute_script("const d = document.documentElement; return [d.scrollWidth, d.clientWidth];")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    if sizes[0] > sizes[1] + 1:
        return f"{label}: {sizes[0]} px wide on a {width} px screen"
    return None


def english_on_page(driver, label, watch):
    """English words or code identifiers in what the page shows (code elements aside): a failure line or None.

    `watch` holds the words and the allowed ones, from the Swift test (one list for both walks)."""
    text = driver.execute_script(
        "const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);"
        "const parts = [];"
        "for (let n = w.nextNode(); n; n = w.nextNode()) {"
        "  if (n.parentElement.closest('code, script, style, [hidden]')) continue;"
        "  parts.push(n.textContent); }"
        "const said = [...document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')]"
        ".map(e => ['aria-label', 'title', 'alt', 'placeholder'].map(a => e.getAttribute(a) || '').join(' '));"
        "return parts.join(' ') + ' ' + said.join(' ');")
    text = re.sub(r"(SHA256:|ssh-ed25519 |ssh-rsa )[A-Za-z0-9+/=]+", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    words, allowed = set(watch["words"]), set(watch["allowed"])
    found = []
    for raw in re.split(r"[\s()\[\]{},;:«»!?\"“”/|=]+", text):
        token = raw.strip(".'’-…*")
        if not token or token.lower() in allowed:
            continue
        if re.fullmatch(r"[a-z]+[A-Z][A-Za-z]*", token) or (token.lower() in words and re.fullmatch(r"[A-Za-z]+", token)):
            found.append(token)
    return f"{label}: English or identifiers: {', '.join(sorted(set(found)))}" if found else None
