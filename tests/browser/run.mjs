// Browser tests of the Yuanjiang pages: playwright-core drives Debian's
// /usr/bin/chromium (no browser download) against a real `yuanjiang serve
// --demo` on 127.0.0.1. The story: a front command drafts and submits a
// project, Kashgar's office reviews it, the region approves it; it then shows
// on the dashboard and in the public portal and is found by a Chinese search.
// Along the way: the language switch, no console error and no request
// outside 127.0.0.1 on any page, every page fits 375 px, the skip link is the
// first thing the keyboard reaches. Screenshots of the main pages, desktop and
// phone, go to target/screenshots/.
//
//   node run.mjs            (YUANJIANG_BIN and CHROMIUM override the paths)
//
// Prints one line per check and a closing "browser: N passed, M failed".

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.YUANJIANG_BIN ?? join(root, 'target/debug/yuanjiang');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = join(root, 'target/screenshots');
const port = 20000 + (process.pid % 20000);
const base = `http://127.0.0.1:${port}`;
// The demo accounts of `serve --demo` (crates/store/src/identity.rs).
const PASSWORD = process.env.YUANJIANG_DEMO_PASSWORD ?? 'Yuanjiang@2010';

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const work = mkdtempSync(join(tmpdir(), 'yj-browser-'));
mkdirSync(shots, { recursive: true });
const server = spawn(
  bin,
  ['serve', '--demo', '--db', `sqlite://${join(work, 'demo.db')}`, '--listen', `127.0.0.1:${port}`],
  { env: { ...process.env, YUANJIANG_DATA_DIR: work, YUANJIANG_LOG: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] },
);
let browser;
const stop = () => {
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
};

async function waitFor(what, probe, seconds) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

try {
  await waitFor('the server', async () => (await fetch(`${base}/healthz`)).ok, 180);
  // The search index builds in the background after start.
  await waitFor('the search index', async () => {
    const html = await (await fetch(`${base}/projects?q=%E5%96%80%E4%BB%80`)).text();
    return !html.includes('搜索索引正在建立');
  }, 120);

  browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const consoleErrors = [];
  const outside = [];
  browser.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1') outside.push(req.url());
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));

  const go = async (path) => {
    const response = await page.goto(base + path);
    return response;
  };
  const text = async () => page.textContent('body');
  const signIn = async (user) => {
    await browser.clearCookies();
    await go('/login');
    await page.fill('#username', user);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  };
  const signOut = async () => {
    await Promise.all([page.waitForURL(/\/login/), page.click('header form[action="/logout"] button')]);
  };
  const projectsOnDashboard = async () => {
    await go('/');
    const heading = await page.textContent('#h-states');
    return Number(heading.replace(/[^0-9]/g, ''));
  };
  const fitsPhone = async (path) => {
    await page.setViewportSize({ width: 375, height: 800 });
    await go(path);
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert(width <= 375, `${path} is ${width}px wide at 375px`);
  };
  const screenshot = async (name, path) => {
    for (const [suffix, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 375, height: 800 }]]) {
      await page.setViewportSize(viewport);
      await go(path);
      await page.screenshot({ path: join(shots, `${name}-${suffix}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  const stamp = Date.now().toString().slice(-6);
  const name = `喀什职业教育实训基地浏览器测试${stamp}`;
  let code = '';
  let before = 0;

  await check('the public dashboard opens in Chinese', async () => {
    await go('/');
    assert((await page.getAttribute('html', 'lang')) === 'zh-CN', 'lang is zh-CN');
    assert((await text()).includes('援疆资金与项目总览'), 'dashboard title');
    before = await projectsOnDashboard();
    assert(before > 0, 'public projects counted');
  });

  await check('the keyboard reaches the skip link first', async () => {
    await go('/');
    await page.keyboard.press('Tab');
    const cls = await page.evaluate(() => document.activeElement.className);
    assert(cls === 'skip', `first focus is ${cls}`);
  });

  await check('a supporter signs in, creates and submits a project', async () => {
    await signIn('sh-officer');
    await go('/projects/new');
    code = await page.inputValue('#p-code');
    await page.fill('#p-name', name);
    await page.selectOption('#p-category', 'education');
    await page.selectOption('#p-mode', 'turnkey');
    await page.selectOption('#p-recipient', '653121');
    await page.check('input[name=grassroots]');
    await page.check('input[name=livelihood]');
    await page.fill('#p-planned', '1000000');
    await page.fill('#p-aid', '800000');
    await page.fill('#p-matching', '0');
    await page.fill('#p-description', '面向南疆青年的职业技能实训');
    await Promise.all([page.waitForURL(/saved=1/), page.click('form.form button[type=submit]')]);
    assert(page.url().includes(`/projects/${code}`), `landed on ${page.url()}`);
    await Promise.all([page.waitForNavigation(), page.click('button[name=step][value=submit]')]);
    assert((await text()).includes('已提交待审核'), 'submitted');
    await screenshot('project', `/projects/${code}`);
    await screenshot('project-form', '/projects/new');
    await signOut();
  });

  await check('the prefecture reviews it from the inbox', async () => {
    await signIn('kashgar-office');
    await go('/inbox');
    const item = page.locator('li.item', { hasText: name });
    await item.locator('textarea[name=comment]').fill('同意，请自治区审批');
    await Promise.all([page.waitForNavigation(), item.locator('button[value=review]').click()]);
    assert(!(await text()).includes(name), 'no longer waiting for Kashgar');
    await signOut();
  });

  await check('the region approves it', async () => {
    await signIn('region');
    await go('/inbox');
    await screenshot('inbox', '/inbox');
    const item = page.locator('li.item', { hasText: name });
    await item.locator('textarea[name=comment]').fill('批准');
    await Promise.all([page.waitForNavigation(), item.locator('button[value=approve]').click()]);
    await go(`/projects/${code}`);
    const body = await text();
    assert(body.includes('已批准') && body.includes('计划下达'), 'approved and plan issued');
    await screenshot('personnel', '/personnel');
    await signOut();
  });

  await check('it shows on the public dashboard and in the portal', async () => {
    await browser.clearCookies();
    const after = await projectsOnDashboard();
    assert(after === before + 1, `dashboard counts ${after}, was ${before}`);
    await go('/public');
    assert((await text()).includes(name), 'in the portal');
  });

  await check('a Chinese search finds it', async () => {
    await go('/public');
    await page.fill('#pub-q', '职业教育');
    await Promise.all([page.waitForNavigation(), page.click('form.search-bar button')]);
    assert((await text()).includes(code), `search results list ${code}`);
  });

  await check('the language switch is remembered', async () => {
    await go('/');
    await Promise.all([page.waitForNavigation(), page.click('a[href^="/lang?to=en"]')]);
    assert((await page.getAttribute('html', 'lang')) === 'en', 'lang is en');
    await go('/projects');
    const body = await text();
    assert(body.includes('Aid project registry') && body.includes('Projects'), 'still English');
    await screenshot('projects-en', '/projects');
    await Promise.all([page.waitForNavigation(), page.click('a[href^="/lang?to=zh"]')]);
    assert((await page.getAttribute('html', 'lang')) === 'zh-CN', 'back to Chinese');
  });

  await check('public pages fit 375 px', async () => {
    for (const path of ['/', '/projects', `/projects/${code}`, '/public', '/pairings', '/login']) {
      await fitsPhone(path);
    }
  });

  await check('signed-in pages fit 375 px', async () => {
    await signIn('region');
    for (const path of ['/', '/projects', `/projects/${code}`, '/inbox', '/personnel']) {
      await fitsPhone(path);
    }
    await signIn('auditor');
    await fitsPhone('/audit');
    await screenshot('audit', '/audit');
    await signIn('admin');
    await fitsPhone('/admin/users');
    await browser.clearCookies();
  });

  await check('screenshots of the main pages', async () => {
    await screenshot('home', '/');
    await screenshot('projects', '/projects');
    await screenshot('search', '/projects?q=%E8%81%8C%E4%B8%9A%E6%95%99%E8%82%B2');
    await screenshot('public', '/public');
    await screenshot('pairings', '/pairings');
  });

  await check('no page logged a console error', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join('; '));
  });

  await check('nothing was requested outside 127.0.0.1', async () => {
    assert(outside.length === 0, outside.join(', '));
  });
} catch (e) {
  results.push(['set-up', false]);
  console.log(`FAIL set-up: ${e.message}`);
} finally {
  if (browser) await browser.close();
  stop();
}

const passed = results.filter(([, ok]) => ok).length;
const failed = results.length - passed;
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
