import { describe, expect, it } from 'vitest';
import { nightTopicName, parseNightTopic } from '../../src/kafka/index.ts';

describe('nightly topic names', () => {
  it('names a night as ZTF does and reads it back', () => {
    expect(nightTopicName('20180819', 1)).toBe('ztf_20180819_programid1');
    expect(parseNightTopic('ztf_20180819_programid2')).toEqual({ night: '20180819', programid: 2 });
  });

  it('refuses dates that are not calendar dates, and other topics', () => {
    expect(() => nightTopicName('20180231', 1)).toThrow(/YYYYMMDD/);
    expect(() => nightTopicName('2018-08-19', 1)).toThrow(/YYYYMMDD/);
    expect(parseNightTopic('ztf_20181301_programid1')).toBeUndefined();
    expect(parseNightTopic('ztf_20180819_programid1_replay')).toBeUndefined();
    expect(parseNightTopic('__consumer_offsets')).toBeUndefined();
  });
});
