import { loadAuditConfig } from './audit-config';

describe('loadAuditConfig', () => {
  it('is off by default, file names never by default', () => {
    const problems: string[] = [];
    expect(loadAuditConfig({}, false, problems)).toEqual({
      sink: 'off',
      topic: 'ephemeral.audit.v1',
      fileNames: false,
      reportsPerMinute: 120,
      reportsBurst: 30,
    });
    expect(problems).toEqual([]);
  });

  it('AUDIT_SINK=kafka needs KAFKA_BROKERS', () => {
    const problems: string[] = [];
    loadAuditConfig({ AUDIT_SINK: 'kafka' }, false, problems);
    expect(problems).toEqual(['KAFKA_BROKERS: required when AUDIT_SINK=kafka']);
  });

  it('lists every bad value', () => {
    const problems: string[] = [];
    loadAuditConfig(
      { AUDIT_SINK: 'syslog', AUDIT_FILE_NAMES: 'yes', AUDIT_TOPIC: 'no spaces' },
      true,
      problems,
    );
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/AUDIT_SINK: must be "off" or "kafka"/);
    expect(problems.join('\n')).toMatch(/AUDIT_FILE_NAMES: must be "true" or "false"/);
  });

  it('reads the topic, file names and report budget', () => {
    expect(
      loadAuditConfig(
        {
          AUDIT_SINK: 'kafka',
          AUDIT_TOPIC: 'corp.audit',
          AUDIT_FILE_NAMES: 'true',
          AUDIT_REPORTS_PER_MINUTE: '10',
          AUDIT_REPORTS_BURST: '2',
        },
        true,
        [],
      ),
    ).toEqual({
      sink: 'kafka',
      topic: 'corp.audit',
      fileNames: true,
      reportsPerMinute: 10,
      reportsBurst: 2,
    });
  });
});
