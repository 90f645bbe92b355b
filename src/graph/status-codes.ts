// What real Graph puts in `error.code` / `error.message` for each status, per workload.
// Sources: ../shared/reference/graph-facts.md §2 (errors.md tables), §3 (throttling), §8 (query errors),
// §10 (sample bodies by status). Where Graph documents no body, the generic row uses the code from the
// errors.md "Code property" table closest to the status description, and says so in a comment.
import type { WorkloadName } from '../scenario/schema.js';

export interface ErrorText {
  readonly code: string;
  readonly message: string;
  /** service-specific members real Graph nests in innerError (before date and the ids) */
  readonly innerError?: Readonly<Record<string, unknown>>;
}

/** HTTP reason phrases for the statuses Graph documents (used in logs and the SDK-style fallback). */
export const reasonPhrases: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
  509: 'Bandwidth Limit Exceeded',
};

// Generic (gateway / OneDrive-heritage "Code property" table, errors.md §2.4).
const generic: Record<number, ErrorText> = {
  400: { code: 'BadRequest', message: 'Cannot process the request because it is malformed or incorrect.' },
  401: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' },
  402: { code: 'paymentRequired', message: 'The payment requirements for the API have not been met.' },
  403: { code: 'accessDenied', message: "The caller doesn't have permission to perform the action." },
  404: { code: 'itemNotFound', message: 'The resource could not be found.' },
  405: {
    code: 'Request_BadRequest',
    message: 'Specified HTTP method is not allowed for the request target.',
  },
  406: {
    code: 'notSupported',
    message: "This service doesn't support the format requested in the Accept header.",
  },
  409: { code: 'nameAlreadyExists', message: 'The specified item name already exists.' },
  410: {
    code: 'resyncRequired',
    message: 'The delta token is no longer valid, and the app must reset the sync state.',
  },
  411: { code: 'invalidRequest', message: 'A Content-Length header is required on the request.' },
  412: {
    code: 'resourceModified',
    message:
      'The resource being updated has changed since the caller last read it, usually an eTag mismatch.',
  },
  413: { code: 'invalidRequest', message: 'The request size exceeds the maximum limit.' },
  414: { code: 'invalidRequest', message: 'The request URI is too long.' },
  415: {
    code: 'invalidRequest',
    message: 'The content type of the request is a format that is not supported by the service.',
  },
  416: { code: 'invalidRange', message: 'The specified byte range is invalid or unavailable.' },
  422: {
    code: 'invalidRequest',
    message: 'Cannot process the request because it is semantically incorrect.',
  },
  423: { code: 'resourceLocked', message: 'The resource that is being accessed is locked.' },
  424: { code: 'failedDependency', message: 'The request failed because a request it depends on failed.' },
  // throttling.md sample: innerError repeats the status as code/status strings
  429: {
    code: 'TooManyRequests',
    message: 'Please retry again later.',
    innerError: { code: '429', message: 'Please retry after', status: '429' },
  },
  431: { code: 'invalidRequest', message: 'The request headers are too large.' },
  500: { code: 'generalException', message: 'An unspecified error has occurred.' },
  501: { code: 'notSupported', message: 'The requested feature isn’t implemented.' },
  502: { code: 'BadGateway', message: 'The server received an invalid response from an upstream server.' },
  503: {
    code: 'serviceNotAvailable',
    message:
      'The service is not available. Try the request again after a delay. There may be a Retry-After header.',
  },
  504: {
    code: 'GatewayTimeout',
    message: 'The server did not receive a timely response from the upstream server it needed to access.',
  },
  507: { code: 'quotaLimitReached', message: 'The maximum storage quota has been reached.' },
  509: {
    code: 'activityLimitReached',
    message: 'Your app has been throttled for exceeding the maximum bandwidth cap.',
  },
};

// Directory (Entra ID): Request_* / Authorization_* codes (§2.6, §8, §10).
const directory: Record<number, ErrorText> = {
  400: { code: 'Request_BadRequest', message: 'Invalid request.' },
  403: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
  404: {
    code: 'Request_ResourceNotFound',
    message:
      "Resource '{id}' does not exist or one of its queried reference-property objects are not present.",
  },
  409: {
    code: 'Directory_ConcurrencyViolation',
    message: 'Another operation is in progress on the object. Retry the request after a short delay.',
  },
};

// Outlook / Exchange: Error* codes (§2.6, §10).
const outlook: Record<number, ErrorText> = {
  400: { code: 'ErrorInvalidRequest', message: 'The request is invalid.' },
  403: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' },
  404: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' },
  // Outlook sync: an expired delta token (§10, errors.md syncStateNotFound)
  410: {
    code: 'SyncStateNotFound',
    message:
      'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
  },
  429: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' },
  500: {
    code: 'ErrorInternalServerTransientError',
    message: 'An internal server transient error occurred. Try again later.',
  },
};

// OneDrive / SharePoint files: camelCase codes from errors.md (§2.4, §3.1, §9).
const onedrive: Record<number, ErrorText> = {
  400: { code: 'invalidRequest', message: 'The request is malformed or incorrect.' },
  403: { code: 'accessDenied', message: "The caller doesn't have permission to perform the action." },
  404: { code: 'itemNotFound', message: 'The resource could not be found.' },
  409: { code: 'nameAlreadyExists', message: 'The specified item name already exists.' },
  // driveItem delta (§9): 410 + Location, the detailed resync code nested
  410: {
    code: 'resyncRequired',
    message:
      "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
    innerError: { code: 'resyncChangesApplyDifferences' },
  },
  423: { code: 'resourceLocked', message: 'The resource you are attempting to access is locked.' },
  // the real OneDrive/SharePoint 429 (§3.1): throttledRequest → quota nested
  429: {
    code: 'activityLimitReached',
    message: 'The request has been throttled',
    innerError: { code: 'throttledRequest', innerError: { code: 'quota' } },
  },
  503: {
    code: 'serviceNotAvailable',
    message: 'The service is not available. Try the request again after a delay.',
  },
};

const byWorkload: Record<WorkloadName, Record<number, ErrorText>> = { generic, directory, outlook, onedrive };

/** The code and message real Graph sends for `status` in `workload`, falling back to the generic row. */
export function defaultErrorText(status: number, workload: WorkloadName = 'generic'): ErrorText {
  const own = byWorkload[workload][status] ?? generic[status];
  if (own) return own;
  // An error status Graph doesn't document: the SDK chaos handler's fallback (reason phrase as code).
  const reason = reasonPhrases[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
  return { code: reason.replace(/\s+/g, ''), message: reason };
}
