import { Routes } from '@angular/router';

// Titles are resolved on navigation, after the page's language was loaded
// (a module-level $localize would run before it).

export const routes: Routes = [
  {
    path: '',
    loadComponent: () => import('./send/send-page').then((m) => m.SendPage),
    title: () => $localize`:@@title.send:Send files · Ephemeral Share`,
  },
  {
    path: 's/:peerId',
    loadComponent: () => import('./receive/receive-page').then((m) => m.ReceivePage),
    title: () => $localize`:@@title.receive:Receive files · Ephemeral Share`,
  },
  {
    path: 'sign-in/callback',
    loadComponent: () =>
      import('./sign-in/sign-in-callback-page').then((m) => m.SignInCallbackPage),
    title: () => $localize`:@@title.signIn:Signing in · Ephemeral Share`,
  },
  {
    path: '**',
    loadComponent: () => import('./not-found/not-found-page').then((m) => m.NotFoundPage),
    title: () => $localize`:@@title.notFound:Page not found · Ephemeral Share`,
  },
];
