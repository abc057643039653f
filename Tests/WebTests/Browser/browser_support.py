"""What the browser tests share: headless Chromium through Selenium, page loads, screenshots, axe-core."""
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
