import { EnvironmentInjector, Injector } from '@angular/core';
import { FakePageEnvironment } from './fake-page-environment';
import { PAGE_ENVIRONMENT } from './page-environment';

/** A page store made by a spec, and the injector that owns it (destroy it to close the page). */
export interface StoreInInjector<T> {
  readonly store: T;
  readonly injector: EnvironmentInjector;
}

/** Makes a store of `type` whose page is `env`. */
export type StoreIn = <T>(type: new () => T, env: FakePageEnvironment) => StoreInInjector<T>;

/**
 * For the page stores' specs (call it in a `describe`): each store gets an
 * injector of its own with `env` as its page, as the app's root injector
 * gives it the browser's; every injector made is destroyed after each test,
 * which ends what its stores started (sockets, timers). A spec using it
 * imports '@angular/compiler' first: the stores' metadata is compiled JIT.
 */
export function storeFixture(): StoreIn {
  const injectors: EnvironmentInjector[] = [];
  afterEach(() => injectors.splice(0).forEach((i) => i.destroyed || i.destroy()));
  return (type, env) => {
    const injector = Injector.create({
      providers: [type, { provide: PAGE_ENVIRONMENT, useValue: env }],
    }) as EnvironmentInjector;
    injectors.push(injector);
    return { store: injector.get(type), injector };
  };
}
