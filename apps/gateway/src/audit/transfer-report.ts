import { ErrorCode, isPeerId, type ReportTransfer, TransferResult } from '@ephemeral/protocol';

import type { FrameRefusal } from '../signaling/frame-refusal';

// Bounds on what a page may report. A share of 100k files is far past what
// a browser offers in one go; bytes stay inside a JS number (forceLong=number).
const MAX_FILE_COUNT = 100_000;
const MAX_BYTE_COUNT = Number.MAX_SAFE_INTEGER;
const FAILURE_REASON_PATTERN = /^[a-z-]{0,32}$/;
const MAX_FILE_NAMES = 1_000;
const MAX_FILE_NAME_CHARS = 1_024;

/** A ReportTransfer's fields against the schema's intent; undefined when it is well formed. */
export function validateReportTransfer(
  seq: number,
  report: ReportTransfer,
): FrameRefusal | undefined {
  const refuse = (code: ErrorCode, message: string): FrameRefusal => ({
    code,
    message,
    seq,
    peerId: isPeerId(report.receiverPeerId) ? report.receiverPeerId : undefined,
  });
  if (!isPeerId(report.receiverPeerId)) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_PEER_ID,
      'report_transfer: receiver_peer_id is not a peer ID (lowercase UUID v4)',
    );
  }
  if (
    report.result !== TransferResult.TRANSFER_RESULT_FINISHED &&
    report.result !== TransferResult.TRANSFER_RESULT_FAILED
  ) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      'report_transfer: result must be FINISHED or FAILED',
    );
  }
  if (!Number.isInteger(report.fileCount) || report.fileCount > MAX_FILE_COUNT) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `report_transfer: file_count must be 0-${MAX_FILE_COUNT}`,
    );
  }
  if (
    !Number.isSafeInteger(report.byteCount) ||
    report.byteCount < 0 ||
    report.byteCount > MAX_BYTE_COUNT
  ) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      'report_transfer: byte_count must be a whole number below 2^53',
    );
  }
  if (!FAILURE_REASON_PATTERN.test(report.failureReason)) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      "report_transfer: failure_reason must be at most 32 lowercase letters and '-'",
    );
  }
  if (
    report.fileNames.length > Math.min(report.fileCount, MAX_FILE_NAMES) ||
    report.fileNames.some((name) => name.length === 0 || name.length > MAX_FILE_NAME_CHARS)
  ) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `report_transfer: at most file_count (and ${MAX_FILE_NAMES}) file names of 1-${MAX_FILE_NAME_CHARS} characters`,
    );
  }
  return undefined;
}
