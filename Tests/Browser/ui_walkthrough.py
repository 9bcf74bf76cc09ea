#!/usr/bin/env python3
"""Drives the web UI in a real browser (Chromium through chromedriver and Selenium), as a person would.

Scenario `activation`: alice signs in, enrolls TOTP from the QR page, and requests a role that needs bob's
approval; bob signs in and approves; alice's DN appears in the LDAP group; alice signs in again with password and
TOTP, deactivates, and her DN leaves the group.

Scenario `review`: bob, the reviewer of an access review in progress, selects alice's item, denies it with a
reason; the administrator dana completes the review on its page; alice's DN leaves the LDAP group.

On failure a screenshot and the page source go to --artifacts.
"""
import argparse
import base64
import hashlib
import hmac
import os
import struct
import subprocess
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def totp(secret, at):
    """RFC 6238 with the key as HummingbirdOTP uses it: the UTF-8 bytes of the secret text (the URI carries them in base32)."""
    counter = int(at // 30)
    digest = hmac.new(secret.encode(), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return "%06d" % code, counter


class Walkthrough:
    def __init__(self, args):
        self.args = args
        self.step = "start"
        self.last_counter = None
        self.driver = self.start_browser()
        self.driver.implicitly_wait(10)

    def start_browser(self):
        """A cold first start of Chromium on a new machine can fail or time out; one more try tells that apart from a broken install."""
        for attempt in (1, 2):
            options = webdriver.ChromeOptions()
            options.binary_location = self.args.chromium
            profile = os.path.join(self.args.artifacts, "profile-%d" % attempt)
            for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,1600",
                         "--user-data-dir=" + profile):
                options.add_argument(flag)
            try:
                return webdriver.Chrome(service=Service(executable_path=self.args.chromedriver), options=options)
            except WebDriverException as error:
                if attempt == 2:
                    raise
                print("browser walkthrough: Chromium did not start (%s); trying once more" % str(error).strip().splitlines()[0], file=sys.stderr)

    def go(self, path):
        self.driver.get(self.args.url + path)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def expect(self, needle):
        text = self.text()
        if needle not in text:
            raise AssertionError("step %s: expected %r on %s, which says: %s" % (self.step, needle, self.driver.current_url, " ".join(text.split())[:600]))

    def fill(self, name, value, form=None):
        scope = form or self.driver
        field = scope.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def submit(self, form, button="button[type=submit]"):
        """Submits and waits until the browser has left the page, so the next look is at the page the server sent."""
        form.find_element(By.CSS_SELECTOR, button).click()

        def left(_driver):
            # Chromium answers a look at an element of the page being replaced either as stale or as an inspector error.
            try:
                form.is_enabled()
                return False
            except WebDriverException:
                return True

        WebDriverWait(self.driver, 30).until(left)

    def form(self, action):
        return self.driver.find_element(By.CSS_SELECTOR, "form[action='%s']" % action)

    def sign_in(self, login, secret=None):
        self.step = "sign in " + login
        self.go("/signin")
        form = self.form("/signin")
        self.fill("login", login, form)
        self.fill("password", self.args.password_prefix + login + self.args.password_suffix, form)
        self.submit(form)
        if secret:
            self.step = "second factor " + login
            form = self.form("/signin/mfa")
            self.fill("code", self.fresh_code(secret), form)
            self.submit(form)
        self.expect("Sign out")

    def sign_out(self):
        self.submit(self.form("/signout"))

    def fresh_code(self, secret):
        """A code from a time step not used before: each code is accepted once."""
        while True:
            code, counter = totp(secret, time.time())
            if counter != self.last_counter:
                self.last_counter = counter
                return code
            time.sleep(max(0.2, 30 - time.time() % 30))

    def members(self):
        # The test's own look at the sandbox directory, as Tests/DrawbridgeTestSupport does, on loopback.
        result = subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-H", self.args.ldap_url, "-D", self.args.bind_dn, "-w", self.args.bind_password,
             "-b", self.args.group_dn, "-s", "base", "member"],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError("ldapsearch failed: " + result.stderr.strip())
        return result.stdout.lower()

    def wait_for_member(self, present):
        self.step = "LDAP membership %s" % ("added" if present else "removed")
        deadline = time.time() + 30
        while time.time() < deadline:
            if (self.args.member_dn.lower() in self.members()) == present:
                return
            time.sleep(0.3)
        raise AssertionError("%s: %s is %sin %s" % (self.step, self.args.member_dn, "not " if present else "still ", self.args.group_dn))

    def run_review(self):
        self.sign_in("bob")
        self.step = "decide the review item"
        self.go("/reviews")
        self.expect("alice")
        form = self.form("/reviews/decide")
        form.find_element(By.CSS_SELECTOR, "input[name=item]").click()
        self.fill("reason", "left the on-call rota", form)
        self.submit(form, "button[value=deny]")
        self.expect("Denied 1 item")
        self.sign_out()

        self.sign_in("dana")
        self.step = "complete the review"
        self.go("/admin/reviews")
        self.driver.find_element(By.LINK_TEXT, self.args.review_name).click()
        self.expect("left the on-call rota")
        self.submit(next(f for f in self.driver.find_elements(By.TAG_NAME, "form") if f.get_attribute("action").endswith("/complete")))
        self.expect("applied")
        self.wait_for_member(False)

    def run_activation(self):
        self.sign_in("alice")
        self.step = "enroll TOTP"
        self.go("/mfa")
        self.submit(self.form("/mfa/enroll"))
        if not self.driver.find_elements(By.CSS_SELECTOR, "svg"):
            raise AssertionError("enroll: no QR code")
        uri = next(t for t in (e.get_attribute("textContent") for e in self.driver.find_elements(By.TAG_NAME, "code")) if t.startswith("otpauth://"))
        encoded = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
        secret = base64.b32decode(encoded + "=" * (-len(encoded) % 8)).decode()
        form = self.form("/mfa/confirm")
        self.fill("code", self.fresh_code(secret), form)
        self.submit(form)
        self.expect("not shown again")

        self.step = "request the role"
        self.go("/roles")
        form = self.form("/roles/activate")
        self.fill("duration", "1h", form)
        self.fill("justification", "browser test: incident 77", form)
        if form.find_elements(By.NAME, "code"):
            self.fill("code", self.fresh_code(secret), form)
        self.submit(form)
        self.expect("waits for approval")
        self.sign_out()

        self.sign_in("bob")
        self.step = "approve"
        self.go("/requests")
        self.expect("incident 77")
        approve = next(f for f in self.driver.find_elements(By.TAG_NAME, "form") if f.get_attribute("action").endswith("/approve"))
        self.fill("reason", "on call this week", approve)
        self.submit(approve)
        self.expect("Approved alice")
        self.sign_out()
        self.wait_for_member(True)

        self.sign_in("alice", secret)
        self.step = "deactivate"
        self.go("/roles")
        deactivate = next(f for f in self.driver.find_elements(By.TAG_NAME, "form") if f.get_attribute("action").endswith("/deactivate"))
        self.submit(deactivate)
        self.expect("Deactivated")
        self.wait_for_member(False)

    def save_artifacts(self):
        name = "".join(c if c.isalnum() else "-" for c in self.step)
        self.driver.save_screenshot(os.path.join(self.args.artifacts, name + ".png"))
        with open(os.path.join(self.args.artifacts, name + ".html"), "w") as handle:
            handle.write(self.driver.page_source)
        return os.path.join(self.args.artifacts, name + ".png")


def main():
    parser = argparse.ArgumentParser()
    for name in ("url", "ldap-url", "bind-dn", "bind-password", "group-dn", "member-dn", "artifacts"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--password-prefix", default="")
    parser.add_argument("--password-suffix", default="")
    parser.add_argument("--scenario", choices=["activation", "review"], default="activation")
    parser.add_argument("--review-name", default="")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    walkthrough = Walkthrough(args)
    try:
        walkthrough.run_review() if args.scenario == "review" else walkthrough.run_activation()
        print("browser walkthrough passed")
    except Exception as error:
        screenshot = walkthrough.save_artifacts()
        print("browser walkthrough failed at %r: %s: %s (screenshot: %s)" % (walkthrough.step, type(error).__name__, error, screenshot), file=sys.stderr)
        sys.exit(1)
    finally:
        walkthrough.driver.quit()


if __name__ == "__main__":
    main()
