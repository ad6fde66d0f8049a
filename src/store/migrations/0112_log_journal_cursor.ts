/**
 * Log shipping from systemd-journald: a node's journal has no (inode, offset) but a journald cursor string
 * (`journalctl --after-cursor`), kept in the same row as a file's cursor.
 */
export default {
  name: '0112_log_journal_cursor',
  up: (): string[] => [`ALTER TABLE log_cursors ADD COLUMN journal_cursor TEXT NOT NULL DEFAULT ''`],
};
