// UI language: Bahasa Indonesia by default, English as the second language.
// Chosen by ?lang=, remembered in a cookie; messages live side by side per key
// so a missing translation is visible in one place.
import type { Request, Response, NextFunction } from 'express';
import { messages } from './messages.js';

export type Locale = 'id' | 'en';
export const LOCALES: Locale[] = ['id', 'en'];
export type Translate = (key: string, params?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  return (key, params = {}) => {
    const entry = (messages as Record<string, { id: string; en: string }>)[key];
    const text = entry ? entry[locale] : key;
    return text.replace(/\{(\w+)\}/g, (_, p: string) => (p in params ? String(params[p]) : `{${p}}`));
  };
}

export function i18nMiddleware(defaultLocale: Locale) {
  return (req: Request, res: Response, next: NextFunction) => {
    const asked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    if (asked && (LOCALES as string[]).includes(asked)) {
      res.cookie('lang', asked, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000 });
    }
    const fromCookie = parseCookie(req.headers.cookie, 'lang');
    const locale = ([asked, fromCookie].find((l) => l && (LOCALES as string[]).includes(l)) ?? defaultLocale) as Locale;
    req.locale = locale;
    req.t = translator(locale);
    res.locals.locale = locale;
    res.locals.t = req.t;
    next();
  };
}

function parseCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      locale: Locale;
      t: Translate;
    }
  }
}
