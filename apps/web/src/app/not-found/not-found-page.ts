import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

/** Any address the app does not know (the gateway serves it with status 404). */
@Component({
  selector: 'es-not-found-page',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="card status bad" role="alert" data-testid="not-found">
      <h1 i18n="@@notFound.heading">There is no page here</h1>
      <p i18n="@@notFound.body">
        The address may be mistyped, or cut short. A share link looks like
        <code>/s/&lt;id&gt;#&lt;secret&gt;.&lt;key&gt;</code>.
      </p>
      <p i18n="@@notFound.instead"><a routerLink="/">Send files</a> instead.</p>
    </div>
  `,
})
export class NotFoundPage {}
