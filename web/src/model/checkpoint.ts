/** Checkpoints into git, in people's words (no DOM): what was committed, and why nothing was. */
import { ApiError, type Checkpoint } from './api'
import { failureWords } from './wording'

const REFUSALS: Record<string, string> = {
  not_a_repository: 'This notebook is not in a git repository, so there is nowhere to commit it. Run `git init` in its folder (or a parent) first.',
  outside_changes: 'The file was changed outside this session since it was last saved here; nothing was committed. Commit or undo that change in git first.',
  nothing_changed: 'Nothing changed since the last commit — there is nothing to checkpoint.',
  no_disk: 'This server does not keep notebooks on disk, so it cannot commit them.',
}

/** Why a checkpoint did not happen. */
export function checkpointFailure(error: unknown, online: boolean): string {
  if (error instanceof ApiError) {
    const words = REFUSALS[error.code]
    if (words) return words
    if (error.code === 'git_failed') return `Git refused the commit: ${error.detail}`
  }
  return failureWords('making a checkpoint', error, online)
}

/** The commit's first line. */
export function subjectOf(message: string): string {
  return message.split('\n', 1)[0]?.trim() ?? ''
}

/** "Checkpoint 1a2b3c4: Edit cell 2 — by Ada and Bob" */
export function describeCheckpoint(result: Checkpoint): string {
  const names = result.authors.map((a) => a.name)
  const by = names.length === 0 ? '' : names.length === 1 ? ` — by ${names[0]}` : ` — by ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
  return `Checkpoint ${result.commit.slice(0, 7)}: ${subjectOf(result.message)}${by}`
}
