import { Routes } from '@angular/router';

export const routes: Routes = [
  {
    path: '',
    loadComponent: () => import('./send/send-page').then((m) => m.SendPage),
    title: 'Send files · Ephemeral Share',
  },
  {
    path: 's/:peerId',
    loadComponent: () => import('./receive/receive-page').then((m) => m.ReceivePage),
    title: 'Receive files · Ephemeral Share',
  },
  {
    path: 'sign-in/callback',
    loadComponent: () =>
      import('./sign-in/sign-in-callback-page').then((m) => m.SignInCallbackPage),
    title: 'Signing in · Ephemeral Share',
  },
  {
    path: '**',
    loadComponent: () => import('./not-found/not-found-page').then((m) => m.NotFoundPage),
    title: 'Page not found · Ephemeral Share',
  },
];
