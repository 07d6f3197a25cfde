//! Ranking scores for reports: 1 is best, ties share a rank.
//!
//! Competition ranking ("1224"): tied units get the best rank among them
//! and the next unit skips the places they took, so a rank always says how
//! many units scored strictly higher (rank − 1).

/// Rank of each score, in input order: 1 for the highest, ties sharing the
/// lower number (competition ranking).
pub fn competition_ranks(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Stable sort: tied units keep their input order, which makes the
    // listing reproducible even though their rank is the same.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut ranks = vec![0; scores.len()];
    for (position, &i) in order.iter().enumerate() {
        ranks[i] = match position {
            0 => 1,
            _ if scores[i] == scores[order[position - 1]] => ranks[order[position - 1]],
            _ => position + 1,
        };
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_lower_rank_and_leave_a_gap() {
        assert_eq!(competition_ranks(&[0.2, 0.9, 0.5, 0.5]), [4, 1, 2, 2]);
        assert_eq!(competition_ranks(&[1.0, 1.0, 1.0]), [1, 1, 1]);
        assert_eq!(competition_ranks(&[]), Vec::<usize>::new());
    }
}
