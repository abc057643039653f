#!/usr/bin/python3
"""The technicians' console in a real browser (headless Chromium through Selenium), driven by WebTests.

Usage: console_browser.py PLAN.json

PLAN.json gives the portal's base URL, axe.min.js, a folder for screenshots, a technician's
account, the two lab devices (serials) to run on, two delivery notes (a bad one, a good one) and a
device to edit. It checks, with JavaScript on:
  - a check run of check.yml started from the form on the two lab devices: the page follows its
    server-sent events, each task appears as it happens and the recap table arrives live, without
    the page being reloaded; axe finds no violation on the page with its live rows and recap;
  - a delivery note with a bad row: the preview shows the error beside its line and offers no
    confirmation; the corrected note: every row with what it would create, then confirmed: imported;
  - an edit made on a stale page (the device was changed in another window meanwhile) is refused,
    showing what changed; nothing of it is written.
Prints a JSON summary; exits 1 with the failures listed when anything is wrong.
"""
import json
import os
import re
import sys
import tempfile

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_support import axe_violations, click_and_wait, load_plan, screenshot, start_driver

plan, base, axe_source, shots = load_plan(sys.argv[1])
failures = []
steps = []
driver = start_driver()


def submit(button):
    click_and_wait(driver, button, timeout=20)


def shot(name):
    screenshot(driver, shots, name)


def axe(label):
    failures.extend(axe_violations(driver, axe_source, label))


def main_text():
    return driver.find_element(By.TAG_NAME, "main").text


def expect(label, condition, detail=""):
    steps.append(label)
    if not condition:
        failures.append(f"{label} ({driver.current_url}): {detail or main_text()[:400]}")


try:
    account = plan["technician"]
    driver.get(base + "/connexion")
    driver.find_element(By.ID, "champ-login").send_keys(account["login"])
    driver.find_element(By.ID, "champ-password").send_keys(account["password"])
    submit(driver.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]"))

    # 1. A check run on the two lab devices, followed live.
    driver.get(base + "/executions/nouvelle")
    Select(driver.find_element(By.ID, "champ-playbook")).select_by_value("check.yml")
    for serial in plan["devices"]:
        driver.find_element(By.ID, "appareil-" + serial).click()
    expect("check mode is the default", driver.find_element(By.ID, "champ-essai").is_selected())
    shot("nouvelle-execution")
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='/executions'] button[type=submit]"))
    expect("the run's page opens", "/executions/" in driver.current_url and "Exécution n°" in main_text())
    # A mark on this document: still there once the recap is shown means no reload happened.
    driver.execute_script("window.parcMark = 'same-document';")
    try:
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "bilan-tableau"))
    except WebDriverException:
        failures.append(f"the recap did not arrive live: {main_text()[:400]}")
    expect("the recap arrived in the same document (server-sent events, no reload)",
           driver.execute_script("return window.parcMark") == "same-document")
    rows = driver.find_elements(By.CSS_SELECTOR, "#bilan-tableau tbody tr")
    expect("the recap lists both devices", len(rows) == 2, f"{len(rows)} rows: {[r.text for r in rows]}")
    tasks = driver.find_elements(By.CSS_SELECTOR, "#deroulement tr")
    expect("each task appeared as it happened", len(tasks) == 2, f"{[t.text for t in tasks]}")
    expect("the status says it is over", "Terminée" in driver.find_element(By.ID, "etat-direct").text)
    live_end = driver.find_element(By.ID, "fin-execution").text
    live_result = driver.find_element(By.ID, "resultat-execution").text
    expect("the header's end is filled live, as the pages write times", re.fullmatch(r"\d\d/\d\d/\d{4} à \d\dh\d\d", live_end) is not None, live_end)
    expect("the header's result is filled live", live_result == "réussie", live_result)
    shot("execution-en-direct-bilan")
    axe("the live run page with its recap")
    # The same run once over, without the script: the recorded recap.
    driver.refresh()
    expect("the finished run's page shows the recorded recap", "Bilan par appareil" in main_text() and "lab-01" in main_text())
    recorded = (driver.find_element(By.ID, "fin-execution").text, driver.find_element(By.ID, "resultat-execution").text)
    expect("the live header said what the record says", recorded == (live_end, live_result), f"live {(live_end, live_result)}, recorded {recorded}")

    # 2. A delivery note with a bad row, then the corrected one.
    def upload(content, name):
        path = os.path.join(tempfile.mkdtemp(), name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        driver.get(base + "/import")
        driver.find_element(By.ID, "champ-fichier").send_keys(path)
        submit(driver.find_element(By.CSS_SELECTOR, "form[action='/import'] button[type=submit]"))

    upload(plan["badNote"], "bon-avec-erreur.csv")
    shot("import-apercu-erreur")
    expect("the bad row's error is shown beside its line", plan["badNoteError"] in main_text())
    expect("nothing to confirm while a row is wrong", not driver.find_elements(By.CSS_SELECTOR, "form[action='/import/confirmer']"))
    axe("the import preview with errors")
    upload(plan["goodNote"], "bon-corrige.csv")
    expect("the good note's rows would be created", "créer" in main_text())
    shot("import-apercu-correct")
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='/import/confirmer'] button[type=submit]"))
    expect("the note is imported", "Import terminé" in main_text() and plan["goodNoteSerial"] in main_text())
    shot("import-termine")

    # 3. A stale edit: the form open in this window, the device changed in another meanwhile.
    device = plan["editDevice"]
    driver.get(base + f"/materiels/{device}/modifier")
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(base + f"/materiels/{device}/modifier")
    notes = driver.find_element(By.ID, "champ-notes")
    notes.clear()
    notes.send_keys("Clavier remplacé")
    submit(driver.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]"))
    expect("the other window's edit is saved", "Modifications enregistrées" in main_text())
    driver.close()
    driver.switch_to.window(first)
    hostname = driver.find_element(By.ID, "champ-hostname")
    hostname.clear()
    hostname.send_keys("poste-perime")
    submit(driver.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]"))
    expect("the stale edit is refused", "modifié par quelqu'un d'autre" in main_text())
    expect("the refusal shows what changed meanwhile", "Clavier remplacé" in main_text())
    shot("modification-perimee-refusee")
    axe("the stale edit refusal")
    driver.get(base + f"/materiels/{device}")
    expect("nothing of the stale edit was written", "poste-perime" not in main_text())
except WebDriverException as e:
    import traceback
    failures.append(f"browser error at {driver.current_url}: {e.msg if hasattr(e, 'msg') else e} {traceback.format_exc(limit=3)}")
    try:
        shot("erreur")
    except WebDriverException:
        pass
finally:
    driver.quit()

print(json.dumps({"steps": steps, "screenshots": sorted(os.listdir(shots)), "failures": failures}, ensure_ascii=False, indent=1))
sys.exit(1 if failures else 0)
