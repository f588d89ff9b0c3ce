import Foundation

/// A multinomial naive Bayes classifier over hashed features: trained in one pass over the
/// examples, deterministic, and explainable (each class's score is a sum of what its features
/// add). Chosen over logistic regression because it needs no iterations, learns well from a few
/// dozen examples a class, and trains in milliseconds each time Lantern starts.
struct NaiveBayes: Sendable {
    let classes: [String]
    /// Feature → row in `weights` (features never seen in training are skipped).
    let rows: [UInt64: Int]
    /// Row-major: `weights[row * classes.count + c]` = log P(feature | class).
    let weights: [Float]

    /// `smoothing`: how much an unseen (feature, class) pair still counts (Lidstone).
    init(examples: [(features: [UInt64], label: String)], smoothing: Float = 0.1) {
        let classes = Array(Set(examples.map(\.label))).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var rows: [UInt64: Int] = [:]
        var counts: [Float] = []
        var totals = [Float](repeating: 0, count: classes.count)
        for example in examples {
            let c = index[example.label]!
            for f in example.features {
                let row: Int
                if let known = rows[f] { row = known } else {
                    row = rows.count
                    rows[f] = row
                    counts.append(contentsOf: repeatElement(0, count: classes.count))
                }
                counts[row * classes.count + c] += 1
                totals[c] += 1
            }
        }
        let vocabulary = Float(rows.count)
        var weights = counts
        let width = classes.count
        for row in 0..<rows.count {
            for c in 0..<width {
                let i = row * width + c
                let share: Float = (counts[i] + smoothing) / (totals[c] + smoothing * vocabulary)
                weights[i] = logf(share)
            }
        }
        self.classes = classes
        self.rows = rows
        self.weights = weights
    }

    /// Each class's log score (uniform prior: how many examples a class has says nothing about
    /// how often people need it), and how many of the text's features were known.
    func scores(_ features: [UInt64]) -> (scores: [Float], known: Int) {
        var scores = [Float](repeating: 0, count: classes.count)
        var known = 0
        for f in features {
            guard let row = rows[f] else { continue }
            known += 1
            let base = row * classes.count
            for c in classes.indices { scores[c] += weights[base + c] }
        }
        return (scores, known)
    }
}
