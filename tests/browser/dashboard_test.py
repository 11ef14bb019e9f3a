"""The dashboard in headless Chromium, against a live node.

Usage: dashboard_test.py URL ADMIN_TOKEN READER_TOKEN GATE_FILE ARTIFACT_DIR

Each check waits on a condition with a deadline (WebDriverWait), never on a
sleep. A screenshot of each stage is kept in ARTIFACT_DIR, and of the page
as it was when a check failed.
"""

import json
import os
import pathlib
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, ADMIN, READER, GATE, ARTIFACTS = sys.argv[1:6]
DEADLINE = 30  # seconds; bounds a hang on a loaded machine


def api(method, path, body=None, token=ADMIN):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=DEADLINE) as res:
        return json.loads(res.read() or b"null")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                            options=options)


class Page:
    def __init__(self, driver):
        self.d = driver
        self.shots = 0

    def shot(self, name):
        self.shots += 1
        path = pathlib.Path(ARTIFACTS, f"{self.shots:02d}-{name}.png")
        self.d.save_screenshot(str(path))

    def until(self, what, condition):
        try:
            # Live updates replace rows while a condition reads them: a
            # stale element means "look again".
            return WebDriverWait(
                self.d, DEADLINE, poll_frequency=0.05,
                ignored_exceptions=[StaleElementReferenceException]).until(
                    lambda d: condition())
        except TimeoutException:
            self.shot("failed-" + what.replace(" ", "-")[:40])
            raise AssertionError("timed out waiting for: " + what) from None

    def find(self, css):
        found = self.d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def click(self, css, what=None):
        """Clicks the element, again if a live update replaced it first."""
        def attempt():
            el = self.find(css)
            if el is None or not el.is_displayed():
                return False
            el.click()
            return True
        self.until(what or "to click " + css, attempt)

    def text(self, css):
        el = self.find(css)
        return el.text if el else None

    def sign_in(self, token):
        self.d.get(URL + "/")
        self.until("the token form", lambda: self.find("#token").is_displayed())
        self.find("#token").send_keys(token)
        self.click("#login-form button")
        self.until("the dashboard", lambda: self.find("#app").is_displayed())
        self.until("the live badge", lambda: self.text("#live") == "live")

    def job_status(self, job_id):
        return self.text(f'#jobs tr[data-id="{job_id}"] .status')


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    pathlib.Path(ARTIFACTS).mkdir(parents=True, exist_ok=True)
    driver = browser()
    page = Page(driver)
    try:
        # The page and its headers: nothing but our own origin may run.
        with urllib.request.urlopen(URL + "/", timeout=DEADLINE) as res:
            csp = res.headers.get("Content-Security-Policy", "")
            check("script-src 'self'" in csp, "CSP of the page: " + csp)
            check(res.headers.get("X-Content-Type-Options") == "nosniff",
                  "nosniff header")

        # A wrong token is refused and the form says so.
        driver.get(URL + "/")
        page.until("the token form", lambda: page.find("#token").is_displayed())
        page.find("#token").send_keys("not-a-token-0123456789")
        page.click("#login-form button")
        page.until("the refusal", lambda: page.text("#login-error"))
        page.shot("refused-token")

        page.sign_in(ADMIN)
        page.shot("signed-in")

        # A job queued elsewhere appears and completes, live.
        done = api("POST", "/v1/jobs", {"task": "echo", "input": {"n": 1}})
        page.until("the new job's row", lambda: page.job_status(done["id"]))
        page.until("the job completed in the list",
                   lambda: page.job_status(done["id"]) == "completed")
        page.until("the default queue's completed count",
                   lambda: page.text('#queues tr[data-queue="default"] td:nth-child(5)') == "1")
        page.shot("job-completed")

        # A running job shows as running; its detail follows it live: its
        # step, the progress it reports and its stderr, as they move.
        running = api("POST", "/v1/jobs", {"task": "slow", "queue": "slow"})
        page.until("the slow job running",
                   lambda: page.job_status(running["id"]) == "running")
        page.click(f'#jobs tr[data-id="{running["id"]}"]')
        page.until("the running job's detail",
                   lambda: page.text("#d-status") == "running")
        page.until("the step's first progress",
                   lambda: page.text("#d-steps tbody tr td:nth-child(6)") == "first quarter")
        check(page.find("#d-steps progress").get_attribute("value") == "0.25",
              "the progress bar at 0.25")
        page.until("the step's stderr", lambda: page.text("#d-tail") == "starting the slow part")
        page.shot("job-running")
        with open(GATE, "w") as gate:  # the slow task blocks reading it
            gate.write("go\n")
        page.until("the progress moving on",
                   lambda: page.text("#d-steps tbody tr td:nth-child(6)") == "nearly there")
        check(page.find("#d-steps progress").get_attribute("value") == "0.75",
              "the progress bar at 0.75")
        page.until("the tail growing", lambda: "slow part done" in (page.text("#d-tail") or ""))
        driver.execute_script("arguments[0].scrollIntoView()", page.find("#d-live"))
        page.shot("job-progress-moved")
        with open(GATE, "w") as gate:
            gate.write("go\n")
        page.until("the detail turning completed",
                   lambda: page.text("#d-status") == "completed")
        page.until("a log line with the step's duration",
                   lambda: page.text("#d-log tbody tr td:nth-child(5)"))
        page.until("the step's output", lambda: '"done": true' in (page.text("#d-output") or ""))

        # Cancel a job that waits for its time, from its detail.
        waiting = api("POST", "/v1/jobs", {"task": "echo", "waitUntil": "2999-01-01T00:00:00.000Z",
                                          "input": {"note": "<img src=x onerror=alert(1)>"}})
        page.until("the waiting job's row",
                   lambda: page.job_status(waiting["id"]) == "waiting")
        page.click(f'#jobs tr[data-id="{waiting["id"]}"]')
        page.until("the cancel button", lambda: page.find("#d-cancel").is_displayed())
        # Input from the network is text, never markup.
        check(page.find("#d-input img") is None, "input rendered as HTML")
        check("<img src=x" in page.text("#d-input"), "input shown as text")
        page.click("#d-cancel")
        page.until("the cancelled status",
                   lambda: page.text("#d-status") == "cancelled")
        check(api("GET", "/v1/jobs/" + waiting["id"])["status"] == "cancelled",
              "the node has the job cancelled")
        page.until("the cancel button gone", lambda: not page.find("#d-cancel").is_displayed())
        page.shot("job-cancelled")

        # A failed job is queued again, as a new job with the same input.
        failed = api("POST", "/v1/jobs", {"task": "fail", "input": {"attempt": "first"}})
        page.until("the job failed in the list",
                   lambda: page.job_status(failed["id"]) == "failed")
        page.click(f'#jobs tr[data-id="{failed["id"]}"]')
        page.until("the failed job's error",
                   lambda: "disk on fire" in (page.text("#d-log") or ""))
        page.click("#d-requeue")
        page.until("the new job's number", lambda: "Queued as job" in page.text("#d-message"))
        again = page.text("#d-id")
        check(again != failed["id"], "queue-again made a new job")
        fresh = api("GET", "/v1/jobs/" + again)
        check(fresh["taskSlug"] == "fail" and fresh["input"] == {"attempt": "first"},
              "the new job has the failed job's task and input")
        page.shot("job-queued-again")

        # Pause and resume a queue.
        pause = '#queues tr[data-queue="default"] button'
        page.until("the pause button", lambda: page.text(pause) == "Pause")
        page.click(pause)
        page.until("the queue shown paused",
                   lambda: page.text('#queues tr[data-queue="default"] td:nth-child(9)') == "paused")
        paused = [q for q in api("GET", "/v1/queues") if q["name"] == "default"]
        check(paused and paused[0]["paused"], "the node has the queue paused")
        page.shot("queue-paused")
        page.click(pause)
        page.until("the queue shown active",
                   lambda: page.text('#queues tr[data-queue="default"] td:nth-child(9)') == "active")

        # Filters: by status.
        Select(page.find("#f-status")).select_by_visible_text("cancelled")
        page.click("#filters button")
        page.until("only the cancelled job listed",
                   lambda: [r.get_attribute("data-id") for r in
                            driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")]
                   == [waiting["id"]])
        page.shot("filtered")

        # A principal the rules refuse run, cancel and queue is not offered them.
        page.click("#sign-out")
        page.until("the token form again", lambda: page.find("#token").is_displayed())
        page.find("#token").clear()
        page.sign_in(READER)
        page.until("the queue list", lambda: page.find('#queues tr[data-queue="default"]'))
        check(page.find(pause) is None, "pause offered to a reader")
        page.click(f'#jobs tr[data-id="{done["id"]}"]')
        page.until("the reader's detail", lambda: page.text("#d-status") == "completed")
        check(not page.find("#d-cancel").is_displayed(), "cancel offered to a reader")
        page.click(f'#jobs tr[data-id="{failed["id"]}"]')
        page.until("the reader's view of the failed job",
                   lambda: page.text("#d-status") == "failed")
        check(not page.find("#d-requeue").is_displayed(), "queue-again offered to a reader")
        page.shot("reader")
    except Exception:
        page.shot("error")
        raise
    finally:
        driver.quit()
    print("dashboard: ok,", page.shots, "screenshots in", ARTIFACTS)


if __name__ == "__main__":
    main()
