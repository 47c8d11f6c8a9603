/// A job's state in the journal.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Found complete; inputs not yet hashed.
    case detected
    /// Waiting for a worker (possibly until a retry time).
    case queued
    /// A worker is fusing it.
    case running
    /// Outputs and sidecar written.
    case done
    /// Given up: configuration error, retries exhausted, or superseded by newer inputs.
    case failed
    /// Bad input: inputs moved to the quarantine folder with an `.error.txt`.
    case quarantined

    /// Whether no further work will happen on the job.
    public var isFinal: Bool { self == .done || self == .failed || self == .quarantined }
}

/// Why an attempt failed, as the daemon sees it.
public enum FailureKind: String, Codable, Sendable {
    /// Disk full, out of memory, I/O error: retried with backoff.
    case transient
    /// Unreadable or mismatched input: quarantined.
    case badInput
    /// A problem with the profile or model: failed without retry (fix the configuration).
    case configuration
    /// The inputs changed while being read: dropped; the new content is detected afresh.
    case inputsChanged
}

/// What happened to a job.
public enum JobEvent: Sendable, Equatable {
    /// Inputs hashed; no finished job has the same fingerprint.
    case enqueue
    /// Inputs hashed; a finished job already fused the same inputs with the same profile and model.
    case duplicate(ofJob: Int64)
    /// A worker takes the job.
    case start
    case succeed
    case fail(FailureKind, message: String)
    /// The daemon stopped (shutdown timeout or crash) while the job ran.
    case interrupt
}

/// A side effect the I/O layer must carry out after a transition.
public enum JobAction: Sendable, Equatable {
    case runPipeline
    /// Make the job eligible again at this time (seconds since 1970).
    case retry(at: Double)
    /// Move the inputs to the quarantine folder and write `<stack>.error.txt` with this reason.
    case quarantine(reason: String)
    /// Move the inputs to the archive folder (when one is configured).
    case archive
    /// Record the error text on the job.
    case recordError(String)
}

/// A state change and its side effects.
public struct JobTransition: Sendable, Equatable {
    public var state: JobState
    /// Attempts after the transition (a start counts one).
    public var attempts: Int
    public var actions: [JobAction]
}

/// An event that is not allowed in a state (a bug in the caller, reported rather than crashing).
public struct InvalidJobTransition: Error, CustomStringConvertible, Sendable, Equatable {
    public let from: JobState
    public let event: JobEvent
    public var description: String { "job event \(event) is not allowed in state \(from.rawValue)" }
}

/// The job life cycle and retry policy as a pure function: no files, no clock (the time is passed in).
///
/// detected → queued (or done, for a duplicate) → running → done | queued (retry after backoff) |
/// failed | quarantined. An interrupted running job goes back to queued unless its attempts are used up.
public enum JobStateMachine {
    public static func transition(from state: JobState, attempts: Int, event: JobEvent,
                                  policy: RetryPolicy, now: Double) throws(InvalidJobTransition) -> JobTransition {
        switch (state, event) {
        case (.detected, .enqueue):
            return JobTransition(state: .queued, attempts: attempts, actions: [])
        case (.detected, .duplicate(let other)), (.queued, .duplicate(let other)), (.running, .duplicate(let other)):
            return JobTransition(state: .done, attempts: attempts,
                                 actions: [.recordError("same inputs, profile and model as job \(other); not fused again"), .archive])
        case (.queued, .start):
            return JobTransition(state: .running, attempts: attempts + 1, actions: [.runPipeline])
        case (.running, .succeed):
            return JobTransition(state: .done, attempts: attempts, actions: [.archive])
        case (.running, .fail(let kind, let message)), (.detected, .fail(let kind, let message)),
             (.queued, .fail(let kind, let message)):
            switch kind {
            case .transient:
                if policy.allowsRetry(after: attempts) {
                    let at = now + policy.delay(afterAttempt: max(attempts, 1))
                    return JobTransition(state: .queued, attempts: attempts, actions: [.recordError(message), .retry(at: at)])
                }
                return JobTransition(state: .failed, attempts: attempts,
                                     actions: [.recordError("\(message) (gave up after \(attempts) attempts)")])
            case .badInput:
                return JobTransition(state: .quarantined, attempts: attempts,
                                     actions: [.recordError(message), .quarantine(reason: message)])
            case .configuration, .inputsChanged:
                return JobTransition(state: .failed, attempts: attempts, actions: [.recordError(message)])
            }
        case (.running, .interrupt):
            if policy.allowsRetry(after: attempts) {
                return JobTransition(state: .queued, attempts: attempts, actions: [.retry(at: now)])
            }
            return JobTransition(state: .failed, attempts: attempts, actions: [
                .recordError("the daemon stopped during each of \(attempts) attempts (crash, kill or shutdown timeout); check memory limits and the logs, then drop the stack again"),
            ])
        default:
            throw InvalidJobTransition(from: state, event: event)
        }
    }
}
