import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

/** Any address the app does not know (the gateway serves it with status 404). */
@Component({
  selector: 'es-not-found-page',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="card status bad" role="alert" data-testid="not-found">
      <h1>There is no page here</h1>
      <p>
        The address may be mistyped, or cut short. A share link looks like
        <code>/s/&lt;id&gt;#&lt;secret&gt;.&lt;key&gt;</code>.
      </p>
      <p><a routerLink="/">Send files</a> instead.</p>
    </div>
  `,
})
export class NotFoundPage {}
