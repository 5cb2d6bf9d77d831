import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/model/api'
import { checkpointFailure, describeCheckpoint } from '../src/model/checkpoint'

describe('checkpoints in words', () => {
  it('names the commit and its authors', () => {
    expect(describeCheckpoint({
      commit: '0123456789abcdef', message: 'Tidy the plots\n\nChanged: cell 2', path: 'nb.ipynb',
      authors: [{ name: 'Ada', email: 'a@x' }, { name: 'Bob', email: 'b@x' }],
    })).toBe('Checkpoint 0123456: Tidy the plots — by Ada and Bob')
  })

  it('explains each refusal', () => {
    expect(checkpointFailure(new ApiError(409, 'not_a_repository', 'x'), true)).toMatch(/not in a git repository/)
    expect(checkpointFailure(new ApiError(409, 'outside_changes', 'x'), true)).toMatch(/changed outside this session/)
    expect(checkpointFailure(new ApiError(422, 'nothing_changed', 'x'), true)).toMatch(/Nothing changed/)
    expect(checkpointFailure(new ApiError(409, 'git_failed', 'lock held'), true)).toBe('Git refused the commit: lock held')
    expect(checkpointFailure(null, false)).toMatch(/offline/)
  })
})
