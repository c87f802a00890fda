/**
 * Where the bearer token is kept: sessionStorage by default (gone when the tab closes),
 * localStorage only when the reviewer ticks "Remember me". Never in a URL.
 */
const KEY = "arbiter.token";

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

export function keepToken(token: string, remember: boolean): void {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
