// Drives the configurator and the quote page in Debian's Chromium (no browser download).
// Usage: node drive.mjs configurator <base URL> <screenshot dir>
//        node drive.mjs plugin <base URL> <screenshot dir>
//        node drive.mjs accept <quote page URL> <screenshot dir>
// Prints one JSON line with what it saw.
import { chromium } from "playwright-core";

const [mode, url, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
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
    const source = await page.textContent("#source");
    const after = await page.textContent("#subtotal");
    await page.screenshot({ path: `${shots}/4-self-healed.png` });
    await page.fill("#name", "Jane Doe");
    await page.fill("#email", "jane@example.com");
    await page.click("#submit button");
    await page.waitForFunction(() => document.getElementById("submitted").textContent.length > 0);
    const submitted = await page.textContent("#submitted");
    await page.screenshot({ path: `${shots}/5-submitted.png` });
    console.log(JSON.stringify({ seen, before, after, source, submitted, navigations }));
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
    const after = await page.textContent("#subtotal");
    const source = await page.textContent("#source");
    const statuses = await page.evaluate(() => window.statuses);
    await page.screenshot({ path: `${shots}/7-plugin-priced.png` });
    console.log(JSON.stringify({ seen, statuses, before, after, source, navigations }));
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
