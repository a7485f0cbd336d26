import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The generated code is committed; this fails when it no longer matches the
// .proto files (someone edited a .proto and forgot `npm run protocol:generate`).
describe('generated protocol code', () => {
  it('matches what the .proto files generate', () => {
    const script = join(__dirname, '../../../tools/protocol/check-generated.sh');
    const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: 'pipe' });
    expect(out).toContain('up to date');
  }, 60_000);
});
