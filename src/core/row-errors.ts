// A model that answers a batch but cannot answer some of its rows (a chat answer that is not the
// JSON asked for) says which ones in an extra output tensor of this name: one string per row,
// empty for a good row, else the reason. The infer stage sends those records to the dead
// letters with the reason and scores the rest. Lives in core because both the inference layer
// (which writes it) and the stream layer (which reads it) need it and neither imports the other.

/**
 * Name of the optional per-row error output (string tensor [N], `''` = the row is fine).
 *
 * @example
 * return { json: { type: 'string', data: answers, dims: [n] }, [ROW_ERRORS]: { type: 'string', data: reasons, dims: [n] } };
 */
export const ROW_ERRORS = '$row_errors';
