import Foundation
import GRDB
import Pipeline
import Registration

/// A drop folder's breathing calibration (`align_calibrate_breathing`): the breathing fitted on its
/// first stacks, kept in the journal so the calibration survives restarts and is the same for every
/// worker. Keyed by drop folder and profile fingerprint: a changed profile (another objective's,
/// say) starts a new calibration.
extension Journal {
    /// The fits recorded for `drop` under `profile`, oldest first, at most `limit`.
    public func breathingFits(drop: String, profile: String, limit: Int) throws(JournalError) -> [BreathingCalibration.Fit] {
        try read { db in
            try Self.breathingFits(db, drop: drop, profile: profile, limit: limit)
        }
    }

    /// Records the breathing fitted on job `job`'s stack, unless `drop` already has `limit` fits under
    /// `profile` (two workers finishing at once record at most the calibration's size) or this job's
    /// fit is already there. Returns the fits after recording, oldest first.
    @discardableResult
    public func recordBreathingFit(drop: String, profile: String, job: Int64, stack: String, breathing: Double,
                                   limit: Int, now: Double) throws(JournalError) -> [BreathingCalibration.Fit] {
        try write { db in
            let count = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM breathing_fit WHERE "drop" = ? AND profile = ?
                """, arguments: [drop, profile]) ?? 0
            let recorded = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM breathing_fit WHERE "drop" = ? AND profile = ? AND job = ?
                """, arguments: [drop, profile, job]) ?? 0
            if count < limit && recorded == 0 {
                try db.execute(sql: """
                    INSERT INTO breathing_fit ("drop", profile, job, stack, breathing, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [drop, profile, job, stack, breathing, now])
            }
            return try Self.breathingFits(db, drop: drop, profile: profile, limit: limit)
        }
    }

    private static func breathingFits(_ db: Database, drop: String, profile: String, limit: Int) throws -> [BreathingCalibration.Fit] {
        try Row.fetchAll(db, sql: """
            SELECT stack, breathing FROM breathing_fit WHERE "drop" = ? AND profile = ? ORDER BY id LIMIT ?
            """, arguments: [drop, profile, limit])
            .map { BreathingCalibration.Fit(stack: $0["stack"], breathing: $0["breathing"]) }
    }

    /// Forgets `drop`'s breathing fits (every profile): its next stacks calibrate afresh — after the
    /// objective was changed without changing the profile. Returns how many fits were removed.
    @discardableResult
    public func resetBreathingCalibration(drop: String) throws(JournalError) -> Int {
        try write { db in
            try db.execute(sql: #"DELETE FROM breathing_fit WHERE "drop" = ?"#, arguments: [drop])
            return db.changesCount
        }
    }
}

/// Where a drop folder's breathing calibration stands, for `focusd status`: how many stacks its
/// profile calibrates over and the fits recorded so far.
public struct DropBreathingCalibration: Sendable {
    public var drop: String
    public var calibration: BreathingCalibration

    /// The calibration of every drop folder in `configuration` whose profile calibrates the breathing
    /// (`align_calibrate_breathing` > 0), keyed as the daemon keys it. A drop folder whose profile
    /// cannot be loaded is left out (the daemon reports that itself).
    public static func all(in configuration: DaemonConfiguration, journal: Journal) throws(JournalError) -> [DropBreathingCalibration] {
        var result: [DropBreathingCalibration] = []
        for drop in configuration.dropFolders {
            guard let (settings, base) = try? ProfileLoader.load(drop.profile, configurationFile: configuration.sourceFile) else { continue }
            let processor = PipelineProcessor(settings: settings, baseDirectory: base)
            let stacks = processor.breathingCalibrationStacks
            guard stacks > 0, let identity = try? processor.identity() else { continue }
            let fits = try journal.breathingFits(drop: drop.name, profile: ProfileFingerprint.compute(identity: identity), limit: stacks)
            result.append(DropBreathingCalibration(drop: drop.name, calibration: BreathingCalibration(stacks: stacks, fits: fits)))
        }
        return result
    }

    /// One line: the calibrated breathing and the fits it is the median of, or how far it is.
    public var summary: String {
        let fits = calibration.fits.map { "\($0.stack) \(String(format: "%.2f", 100 * $0.breathing)) %" }.joined(separator: ", ")
        if let breathing = calibration.breathing {
            return "\(drop): focus breathing calibrated at \(String(format: "%.3f", 100 * breathing)) % (median of \(fits))"
        }
        return "\(drop): calibrating the focus breathing, \(calibration.fits.count) of \(calibration.stacks) stacks fitted"
            + (fits.isEmpty ? "" : " (\(fits))")
    }
}
