import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { useBrowserApp } from '../support/browser.js';
import { DEMO_PASSWORD } from '../support/harness.js';

const heading = (page: Page) => page.locator('h1').first().innerText();

describe('in the browser: sign-in, language and sign-out', () => {
  const app = useBrowserApp();

  it('signs in through the form, reads the profile in English, and signs out', async () => {
    const page = await app().newPage();
    await page.goto('/profile');
    expect(new URL(page.url()).pathname, 'a signed-out visitor is sent to the login page').to.equal('/login');
    expect(await heading(page)).to.equal('Masuk');

    await page.getByLabel('Nama pengguna').fill('admin');
    await page.getByLabel('Kata sandi').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === '/profile'), page.getByRole('button', { name: 'Masuk' }).click()]);
    expect(await heading(page), 'sign-in returns to the page first asked for').to.equal('Profil');

    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.getByRole('link', { name: 'Beranda' }).click()]);
    expect(await heading(page)).to.equal('Selamat datang, Rahmat Hidayat, S.Kom.');

    await Promise.all([page.waitForURL((u) => u.pathname === '/profile'), page.getByRole('link', { name: 'Profil' }).click()]);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('lang') === 'en'), page.getByRole('link', { name: 'English' }).click()]);
    expect(await heading(page)).to.equal('Profile');
    expect(await page.locator('html').getAttribute('lang')).to.equal('en');
    expect(await page.getByRole('button', { name: 'Sign out (admin)' }).isVisible()).to.equal(true);

    // The choice is remembered: the next page, without ?lang=, stays in English.
    await Promise.all([page.waitForURL((u) => u.pathname === '/' && !u.search), page.getByRole('link', { name: 'Home' }).click()]);
    expect(await heading(page)).to.equal('Welcome, Rahmat Hidayat, S.Kom.');

    await Promise.all([page.waitForURL((u) => u.searchParams.get('lang') === 'id'), page.getByRole('link', { name: 'Bahasa Indonesia' }).click()]);
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Keluar (admin)' }).click()]);
    expect(await page.getByText('Anda telah keluar.').isVisible()).to.equal(true);

    await page.goto('/');
    expect(new URL(page.url()).pathname, 'the old session no longer opens pages').to.equal('/login');
  });

  it('on a phone, the menu button opens the navigation', async () => {
    const page = await app().signIn('admin', { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const toggle = page.getByRole('button', { name: 'Menu' });
    const profileLink = page.locator('#mainnav').getByRole('link', { name: 'Profil' });
    expect(await toggle.isVisible()).to.equal(true);
    expect(await profileLink.isVisible(), 'the navigation starts folded away').to.equal(false);

    await toggle.click();
    await profileLink.waitFor({ state: 'visible' });
    expect(await toggle.getAttribute('aria-expanded')).to.equal('true');
    // Nothing overflows sideways: the page fits the phone's width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(375);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-e2e-'));
    const shot = path.join(dir, 'phone-menu.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = fs.readFileSync(shot);
    expect(png.length).to.be.greaterThan(1000);
    expect(png.subarray(1, 4).toString()).to.equal('PNG');
    fs.rmSync(dir, { recursive: true }); // kept only when a check above fails, to look at
  });
});
