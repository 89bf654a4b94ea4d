// Drives the configurator and the quote page in Debian's Chromium (no browser download).
// Usage: node drive.mjs configurator <base URL> <screenshot dir>
//        node drive.mjs plugin <base URL> <screenshot dir>
//        node drive.mjs accept <quote page URL> <screenshot dir>
//        node drive.mjs locale <base URL> <screenshot dir> <Accept-Language>
//        node drive.mjs imperial <configurator URL> <screenshot dir>
//        node drive.mjs invalid <base URL> <screenshot dir>
//        node drive.mjs phone <base URL> <screenshot dir>
//        node drive.mjs axe <base URL> <screenshot dir>
//        node drive.mjs offline <base URL> <screenshot dir>  (writes <dir>/server-stop when
//          the price shows, then waits for the page to say the server is gone)
// Prints one JSON line with what it saw.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [mode, url, shots, acceptLanguage] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const phone = mode === "phone";
const context = await browser.newContext({
  viewport: phone ? { width: 390, height: 844 } : { width: 1200, height: 1100 },
  locale: acceptLanguage || "en-US",
  isMobile: phone,
  hasTouch: phone,
});
const page = await context.newPage();
const seen = [];
let navigations = 0;
page.on("framenavigated", (frame) => { if (frame === page.mainFrame()) navigations += 1; });
// What the page and its requests did, printed if a step fails (a timeout alone says nothing).
const events = [];
const note = (line) => events.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
page.on("console", (message) => note(`console.${message.type()}: ${message.text()}`));
page.on("pageerror", (error) => note(`page error: ${error.message}`));
page.on("requestfailed", (request) => note(`failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
page.on("response", (response) => note(`${response.status()} ${response.request().method()} ${response.url()}`));
const status = () => page.textContent("#status");
const waitStatus = async (text) => {
  await page.waitForFunction((t) => document.getElementById("status").textContent.startsWith(t), text, { timeout: 15000 });
  seen.push(await status());
};
// Waits until the shown price is the price of the form (not outdated, not loading).
const waitCurrent = () => page.waitForFunction(() => {
  const element = document.getElementById("status");
  return element.dataset.source && !element.classList.contains("outdated");
}, null, { timeout: 15000 });
const source = () => page.evaluate(() => document.getElementById("status").dataset.source);
const submitDisabled = () => page.evaluate(() => document.getElementById("submit-button").disabled);
const widthState = () => page.evaluate(() => {
  const input = document.getElementById("width");
  const described = input.getAttribute("aria-describedby");
  return {
    invalid: input.getAttribute("aria-invalid"),
    describedBy: described,
    error: described ? document.getElementById(described).textContent : null,
    errorNextToField: described ? input.parentElement.contains(document.getElementById(described)) : false,
  };
});
const priceState = async () => ({
  status: await status(),
  outdated: await page.evaluate(() => document.getElementById("status").classList.contains("outdated")),
  subtotal: await page.textContent("#subtotal"),
  submitDisabled: await submitDisabled(),
});
// Serious or critical axe-core findings on the page as it stands.
const axe = async () => {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
};
try {
  if (mode === "configurator") {
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitStatus("Final price"); // the first configuration, answered by the receiver
    await page.screenshot({ path: `${shots}/1-configured.png` });
    const before = await page.textContent("#subtotal");
    await page.fill("#width", "2600");
    await waitStatus("Confirming final price");
    await page.screenshot({ path: `${shots}/2-pending.png` });
    await waitStatus("Estimated price");
    await page.screenshot({ path: `${shots}/3-fallback.png` });
    await waitStatus("Final price");
    const priceSource = await source();
    const after = await page.textContent("#subtotal");
    await page.screenshot({ path: `${shots}/4-self-healed.png` });
    await page.fill("#name", "Jane Doe");
    await page.fill("#email", "jane@example.com");
    // The busy state while the submission waits for the organisation's price.
    await page.evaluate(() => {
      const button = document.getElementById("submit-button");
      window.busy = [];
      new MutationObserver(() => window.busy.push([button.getAttribute("aria-busy"), button.disabled, button.textContent]))
        .observe(button, { attributes: true, childList: true, subtree: true });
    });
    await page.click("#submit button");
    await page.waitForFunction(() => document.getElementById("submitted").textContent.length > 0);
    const submitted = await page.textContent("#submitted");
    const submittedSource = await page.evaluate(() => document.getElementById("submitted").dataset.source);
    const busy = await page.evaluate(() => window.busy);
    await page.screenshot({ path: `${shots}/5-submitted.png` });
    console.log(JSON.stringify({ seen, before, after, source: priceSource, submitted, submittedSource, busy, navigations }));
  } else if (mode === "plugin") {
    // The org's Wasm plugin prices in-process: every status the page ever shows is recorded.
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitStatus("Final price");
    await page.evaluate(() => {
      window.statuses = [];
      new MutationObserver(() => window.statuses.push(document.getElementById("status").textContent))
        .observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true });
    });
    const before = await page.textContent("#subtotal");
    await page.fill("#width", "2600");
    await page.waitForFunction((b) => document.getElementById("subtotal").textContent !== b, before, { timeout: 15000 });
    await page.waitForTimeout(300);
    await waitCurrent();
    const after = await page.textContent("#subtotal");
    const statuses = await page.evaluate(() => window.statuses);
    await page.screenshot({ path: `${shots}/7-plugin-priced.png` });
    console.log(JSON.stringify({ seen, statuses, before, after, source: await source(), navigations }));
  } else if (mode === "locale") {
    // The page in the browser's language, with that locale's numbers.
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitCurrent();
    await page.fill("#width", "2600");
    await waitCurrent();
    const read = (selector) => page.textContent(selector);
    const seenText = {
      lang: await page.evaluate(() => document.documentElement.lang),
      heading: await read("#configure-heading"),
      priceHeading: await read("#price-heading"),
      status: await status(),
      subtotal: await read("#subtotal"),
      quantities: await page.$$eval("#items td.num:first-of-type", (cells) => cells.map((c) => c.textContent)),
      totals: await page.$$eval("#items td:last-child", (cells) => cells.map((c) => c.textContent)),
      widthLabel: await read("label[for=width]"),
      legends: await page.$$eval("legend", (items) => items.map((l) => l.textContent)),
      options: await page.$$eval("select[data-group] option", (items) => items.map((o) => o.textContent)),
      submit: await read("#submit-button"),
      logo: await page.evaluate(() => document.querySelector("header img")?.naturalWidth ?? 0),
      logoAlt: await page.evaluate(() => document.querySelector("header img")?.alt ?? null),
    };
    await page.screenshot({ path: `${shots}/8-locale-${acceptLanguage}.png`, fullPage: true });
    console.log(JSON.stringify(seenText));
  } else if (mode === "imperial") {
    // Inches on screen, millimetres in the API.
    const sent = [];
    page.on("request", (request) => {
      if (request.method() === "PUT" && request.url().endsWith("/configuration")) sent.push(JSON.parse(request.postData()));
    });
    await page.goto(url);
    await page.waitForSelector("#width");
    await waitCurrent();
    const label = await page.textContent("label[for=width]");
    const shown = await page.inputValue("#width");
    await page.fill("#width", "100");
    await waitCurrent();
    await page.screenshot({ path: `${shots}/9-imperial.png` });
    console.log(JSON.stringify({ label, shown, sentWidth: sent.at(-1)?.configuration.width }));
  } else if (mode === "invalid") {
    // An out-of-range width: the error at the field, the price outdated, Submit disabled;
    // fixing it brings the price and Submit back.
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitCurrent();
    const valid = await priceState();
    await page.fill("#width", "99999");
    await page.waitForFunction(() => document.getElementById("width").getAttribute("aria-invalid") === "true");
    await page.waitForTimeout(400); // past the debounce: nothing may be sent or shown as current
    const invalid = { ...(await priceState()), field: await widthState() };
    await page.screenshot({ path: `${shots}/10-invalid-width.png` });
    await page.fill("#width", "2600");
    await waitCurrent();
    const fixed = { ...(await priceState()), field: await widthState() };
    await page.screenshot({ path: `${shots}/11-fixed-width.png` });
    console.log(JSON.stringify({ valid, invalid, fixed }));
  } else if (mode === "phone") {
    // On a phone the price stays in view while the customer edits the size.
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitCurrent();
    const inputs = await page.$$("#configuration input[type=number]");
    const last = inputs[inputs.length - 1];
    await last.scrollIntoViewIfNeeded();
    await last.fill(await last.inputValue());
    await waitCurrent();
    const box = await page.locator("#summary-price").boundingBox();
    const inputBox = await last.boundingBox();
    const visible = await page.isVisible("#summary-price");
    await page.screenshot({ path: `${shots}/12-phone.png` });
    const inPage = await page.locator("#subtotal").boundingBox();
    console.log(JSON.stringify({ box, inputBox, inPage, visible, price: await page.textContent("#summary-price") }));
  } else if (mode === "axe") {
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitCurrent();
    const loaded = await axe();
    await page.fill("#width", "99999");
    await page.waitForFunction(() => document.getElementById("width").getAttribute("aria-invalid") === "true");
    const withError = await axe();
    // Keyboard only: Tab reaches the width field from the product picker.
    await page.focus("#template");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement.id);
    console.log(JSON.stringify({ loaded, withError, focused }));
  } else if (mode === "offline") {
    await page.goto(`${url}/configurator/window-works?template=2-panel-lift-slide`);
    await page.waitForSelector("#width");
    await waitCurrent();
    const before = await priceState();
    writeFileSync(`${shots}/server-stop`, "stop");
    await page.waitForSelector("#offline", { state: "visible", timeout: 20000 });
    await page.fill("#width", "2600");
    await page.waitForTimeout(500);
    const message = await page.textContent("#offline-text");
    const after = await priceState();
    const retry = await page.isVisible("#retry");
    await page.screenshot({ path: `${shots}/13-offline.png` });
    console.log(JSON.stringify({ before, after, message, retry }));
  } else {
    await page.goto(url);
    await page.fill("#name", "Jane Doe");
    await page.click("button[data-action=accept]");
    await page.waitForFunction(() => document.getElementById("result").textContent.length > 0);
    const result = await page.textContent("#result");
    await page.screenshot({ path: `${shots}/6-accepted.png` });
    console.log(JSON.stringify({ result }));
  }
} catch (error) {
  const field = (id) => page.evaluate((i) => {
    const element = document.getElementById(i);
    return element && ("value" in element && element.value !== undefined ? element.value : element.textContent);
  }, id).catch(() => "?");
  console.error(`failed in mode ${mode}: status=${JSON.stringify(await field("status"))} ` +
    `subtotal=${JSON.stringify(await field("subtotal"))} width=${JSON.stringify(await field("width"))} ` +
    `problems=${JSON.stringify(await field("problems"))} ` +
    `seen=${JSON.stringify(seen)}\n${events.join("\n")}`);
  await page.screenshot({ path: `${shots}/failed-${mode}.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
