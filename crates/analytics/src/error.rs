//! The one error type of the evaluation library.
//!
//! Every variant has a stable snake_case [`EvaluationError::code`] that the
//! UI and the API can key translations on, and ready-made messages in
//! Simplified Chinese ([`EvaluationError::zh`]) and English
//! ([`EvaluationError::en`], also the `Display` text). Messages name the line,
//! column, unit or indicator at fault, because the person reading them is
//! fixing a spreadsheet, not reading a stack trace.

use thiserror::Error;

/// Why an evaluation could not be carried out.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EvaluationError {
    /// The units file has no header line.
    #[error("the units file is empty: expected a header line `unit,<indicator>,...`")]
    EmptyInput,
    /// The first header cell is not `unit`.
    #[error("line 1: the first column must be named \"unit\", found \"{found}\"")]
    BadHeader {
        /// The header cell found instead.
        found: String,
    },
    /// A header cell is blank.
    #[error("line 1: column {position} has no name")]
    BlankColumnName {
        /// 1-based position of the blank header cell.
        position: usize,
    },
    /// Two columns share a name.
    #[error("column \"{column}\" appears more than once")]
    DuplicateColumn {
        /// The repeated column name.
        column: String,
    },
    /// The header names no indicator after `unit`.
    #[error("no indicator columns: the header must name at least one indicator after \"unit\"")]
    NoIndicators,
    /// The CSV text could not be read at all.
    #[error("line {line}: malformed CSV: {detail}")]
    MalformedCsv {
        /// 1-based line number.
        line: u64,
        /// What the CSV reader reported.
        detail: String,
    },
    /// A row has no unit name.
    #[error("line {line}: the unit name is missing")]
    MissingUnitName {
        /// 1-based line number.
        line: u64,
    },
    /// A cell is empty or the row is too short.
    #[error("line {line}: column \"{column}\" has no value")]
    MissingValue {
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
    },
    /// A row has more cells than the header.
    #[error("line {line}: {found} values but the header has {expected} columns")]
    ExtraValues {
        /// 1-based line number.
        line: u64,
        /// Cells found on the line.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A cell is not a number.
    #[error("line {line}: column \"{column}\": \"{value}\" is not a number")]
    NotANumber {
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The text found.
        value: String,
    },
    /// A cell is NaN or infinite.
    #[error("line {line}: column \"{column}\": \"{value}\" is not a finite number")]
    NonFinite {
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The text found.
        value: String,
    },
    /// Two rows name the same unit.
    #[error("line {line}: unit \"{unit}\" appears more than once")]
    DuplicateUnit {
        /// 1-based line number of the second occurrence.
        line: u64,
        /// The repeated unit name.
        unit: String,
    },
    /// Fewer than two units: nothing to compare.
    #[error("at least 2 units are needed to compare, found {count}")]
    TooFewUnits {
        /// Units found.
        count: usize,
    },
    /// A hand-built table has rows of the wrong length or similar.
    #[error("inconsistent unit table: {detail}")]
    InconsistentTable {
        /// What is inconsistent.
        detail: String,
    },
    /// A column name given in a request is not in the table.
    #[error("unknown column \"{column}\"")]
    UnknownColumn {
        /// The name asked for.
        column: String,
    },
    /// The method name is not one we know.
    #[error(
        "unknown method \"{method}\": use entropy, ahp, topsis, entropy-topsis, dea-ccr or dea-bcc"
    )]
    UnknownMethod {
        /// The name given.
        method: String,
    },
    /// The DEA orientation is not `input` or `output`.
    #[error("unknown orientation \"{orientation}\": use input or output")]
    UnknownOrientation {
        /// The name given.
        orientation: String,
    },
    /// An option was given that the chosen method does not use.
    #[error("option \"{option}\" does not apply to method {method}")]
    OptionNotApplicable {
        /// The option's name.
        option: &'static str,
        /// The method chosen.
        method: &'static str,
    },
    /// All units have the same value on an indicator, so min-max
    /// normalisation would divide by zero.
    #[error(
        "indicator \"{indicator}\" has the same value for every unit, so it cannot be normalised; remove it"
    )]
    ZeroVariance {
        /// The indicator's name.
        indicator: String,
    },
    /// The number of weights differs from the number of indicators.
    #[error("{found} weights given for {expected} indicators")]
    WeightCount {
        /// Indicators in the table.
        expected: usize,
        /// Weights given.
        found: usize,
    },
    /// A weight is negative or not finite.
    #[error("weight {value} for indicator \"{indicator}\" must be a finite number ≥ 0")]
    InvalidWeight {
        /// The indicator's name.
        indicator: String,
        /// The weight given.
        value: f64,
    },
    /// All weights are zero.
    #[error("the weights add up to zero")]
    ZeroWeights,
    /// Every unit is identical on every weighted indicator: TOPSIS has no
    /// ideal to measure against.
    #[error("all units are identical on every weighted indicator, so they cannot be ranked")]
    AllUnitsIdentical,
    /// Method `ahp` was chosen without a pairwise matrix.
    #[error("method ahp needs a pairwise-comparison matrix")]
    AhpMatrixMissing,
    /// The pairwise matrix text has no numbers.
    #[error("the pairwise-comparison matrix is empty")]
    AhpMatrixEmpty,
    /// A cell of the pairwise matrix is not a positive number or fraction.
    #[error(
        "pairwise matrix line {line}, column {position}: \"{value}\" is not a number or fraction like 1/3"
    )]
    AhpBadValue {
        /// 1-based line number.
        line: u64,
        /// 1-based column position.
        position: usize,
        /// The text found.
        value: String,
    },
    /// The pairwise matrix is not square.
    #[error(
        "the pairwise-comparison matrix must be square: row {row} has {found} values, expected {expected}"
    )]
    AhpNotSquare {
        /// 1-based row of the matrix body.
        row: usize,
        /// Values in that row.
        found: usize,
        /// Rows in the matrix.
        expected: usize,
    },
    /// More than 15 criteria: Saaty's random index stops there.
    #[error("the pairwise-comparison matrix has {size} criteria; at most 15 are supported")]
    AhpTooLarge {
        /// Criteria in the matrix.
        size: usize,
    },
    /// A judgement is zero, negative or not finite.
    #[error("pairwise judgement ({row}, {column}) = {value} must be a positive number")]
    AhpNotPositive {
        /// Row criterion.
        row: String,
        /// Column criterion.
        column: String,
        /// The value found.
        value: f64,
    },
    /// `a_ji` is not `1/a_ij`.
    #[error(
        "pairwise judgements are not reciprocal: ({row}, {column}) = {value} but ({column}, {row}) = {mirror}, expected {expected}"
    )]
    AhpNotReciprocal {
        /// Row criterion.
        row: String,
        /// Column criterion.
        column: String,
        /// `a_ij`.
        value: f64,
        /// `a_ji` as given.
        mirror: f64,
        /// `1/a_ij`.
        expected: f64,
    },
    /// The header row of the pairwise matrix names too few or too many
    /// criteria.
    #[error("the pairwise matrix header names {found} criteria but the matrix has {expected} rows")]
    AhpHeaderLength {
        /// Names in the header (without a corner cell).
        found: usize,
        /// Rows in the matrix.
        expected: usize,
    },
    /// Header names and row names of the pairwise matrix disagree.
    #[error(
        "pairwise matrix: header name \"{header}\" at position {position} differs from row name \"{row}\""
    )]
    AhpHeaderMismatch {
        /// 1-based criterion position.
        position: usize,
        /// Name in the header.
        header: String,
        /// Name in the first column.
        row: String,
    },
    /// The matrix has a different number of criteria than the table has
    /// indicators.
    #[error(
        "the pairwise-comparison matrix has {matrix} criteria but the table has {indicators} indicators"
    )]
    AhpSizeMismatch {
        /// Criteria in the matrix.
        matrix: usize,
        /// Indicators in the table.
        indicators: usize,
    },
    /// A criterion named in the matrix is not an indicator of the table.
    #[error("pairwise matrix criterion \"{name}\" is not an indicator of the table")]
    AhpUnknownCriterion {
        /// The criterion's name.
        name: String,
    },
    /// The judgements are too inconsistent (CR ≥ 0.1).
    #[error(
        "the pairwise judgements are inconsistent: CR = {cr:.4} (must be below 0.1); revise the comparisons"
    )]
    AhpInconsistent {
        /// The consistency ratio.
        cr: f64,
    },
    /// Power iteration did not settle (should not happen for a positive
    /// matrix; kept so that a bug shows as an error, not a wrong weight).
    #[error("the principal eigenvector of the pairwise matrix did not converge")]
    AhpNotConverged,
    /// DEA needs at least one input column.
    #[error("DEA needs at least one input column")]
    DeaNoInputs,
    /// DEA needs at least one output column.
    #[error("DEA needs at least one output column")]
    DeaNoOutputs,
    /// A column is listed both as input and as output.
    #[error("column \"{column}\" is listed both as an input and as an output")]
    DeaColumnInBothRoles {
        /// The column's name.
        column: String,
    },
    /// DEA data must be non-negative.
    #[error(
        "unit \"{unit}\", column \"{column}\": {value} is negative; DEA needs non-negative data"
    )]
    DeaNegative {
        /// The unit's name.
        unit: String,
        /// The column's name.
        column: String,
        /// The value found.
        value: f64,
    },
    /// A unit uses nothing, so its efficiency is undefined.
    #[error("unit \"{unit}\" has no positive input; DEA needs at least one")]
    DeaNoPositiveInput {
        /// The unit's name.
        unit: String,
    },
    /// A unit produces nothing, so its efficiency is undefined.
    #[error("unit \"{unit}\" has no positive output; DEA needs at least one")]
    DeaNoPositiveOutput {
        /// The unit's name.
        unit: String,
    },
    /// The LP solver failed on a unit's programme.
    #[error("the linear programme for unit \"{unit}\" could not be solved: {detail}")]
    DeaSolverFailed {
        /// The unit's name.
        unit: String,
        /// What the solver reported.
        detail: String,
    },
    /// A computed number came out NaN or infinite; we refuse to return it.
    #[error("the computation produced a non-finite number ({detail})")]
    NonFiniteResult {
        /// Where the number appeared.
        detail: String,
    },
}

impl EvaluationError {
    /// Stable machine-readable code, e.g. `zero_variance`.
    pub fn code(&self) -> &'static str {
        use EvaluationError::*;
        match self {
            EmptyInput => "empty_input",
            BadHeader { .. } => "bad_header",
            BlankColumnName { .. } => "blank_column_name",
            DuplicateColumn { .. } => "duplicate_column",
            NoIndicators => "no_indicators",
            MalformedCsv { .. } => "malformed_csv",
            MissingUnitName { .. } => "missing_unit_name",
            MissingValue { .. } => "missing_value",
            ExtraValues { .. } => "extra_values",
            NotANumber { .. } => "not_a_number",
            NonFinite { .. } => "non_finite",
            DuplicateUnit { .. } => "duplicate_unit",
            TooFewUnits { .. } => "too_few_units",
            InconsistentTable { .. } => "inconsistent_table",
            UnknownColumn { .. } => "unknown_column",
            UnknownMethod { .. } => "unknown_method",
            UnknownOrientation { .. } => "unknown_orientation",
            OptionNotApplicable { .. } => "option_not_applicable",
            ZeroVariance { .. } => "zero_variance",
            WeightCount { .. } => "weight_count",
            InvalidWeight { .. } => "invalid_weight",
            ZeroWeights => "zero_weights",
            AllUnitsIdentical => "all_units_identical",
            AhpMatrixMissing => "ahp_matrix_missing",
            AhpMatrixEmpty => "ahp_matrix_empty",
            AhpBadValue { .. } => "ahp_bad_value",
            AhpNotSquare { .. } => "ahp_not_square",
            AhpTooLarge { .. } => "ahp_too_large",
            AhpNotPositive { .. } => "ahp_not_positive",
            AhpNotReciprocal { .. } => "ahp_not_reciprocal",
            AhpHeaderLength { .. } => "ahp_header_length",
            AhpHeaderMismatch { .. } => "ahp_header_mismatch",
            AhpSizeMismatch { .. } => "ahp_size_mismatch",
            AhpUnknownCriterion { .. } => "ahp_unknown_criterion",
            AhpInconsistent { .. } => "ahp_inconsistent",
            AhpNotConverged => "ahp_not_converged",
            DeaNoInputs => "dea_no_inputs",
            DeaNoOutputs => "dea_no_outputs",
            DeaColumnInBothRoles { .. } => "dea_column_in_both_roles",
            DeaNegative { .. } => "dea_negative",
            DeaNoPositiveInput { .. } => "dea_no_positive_input",
            DeaNoPositiveOutput { .. } => "dea_no_positive_output",
            DeaSolverFailed { .. } => "dea_solver_failed",
            NonFiniteResult { .. } => "non_finite_result",
        }
    }

    /// The message in English (the same text as `Display`).
    pub fn en(&self) -> String {
        self.to_string()
    }

    /// The message in Simplified Chinese.
    pub fn zh(&self) -> String {
        use EvaluationError::*;
        match self {
            EmptyInput => "单位数据文件为空：第一行应为表头 `unit,<指标>,...`".to_string(),
            BadHeader { found } => format!("第 1 行：第一列应命名为 \"unit\"，实际为 \"{found}\""),
            BlankColumnName { position } => format!("第 1 行：第 {position} 列没有列名"),
            DuplicateColumn { column } => format!("列 \"{column}\" 重复出现"),
            NoIndicators => "没有指标列：表头在 \"unit\" 之后至少要有一个指标".to_string(),
            MalformedCsv { line, detail } => format!("第 {line} 行：CSV 格式错误：{detail}"),
            MissingUnitName { line } => format!("第 {line} 行：缺少单位名称"),
            MissingValue { line, column } => format!("第 {line} 行：列 \"{column}\" 缺少数值"),
            ExtraValues {
                line,
                found,
                expected,
            } => format!("第 {line} 行：有 {found} 个值，但表头只有 {expected} 列"),
            NotANumber {
                line,
                column,
                value,
            } => format!("第 {line} 行：列 \"{column}\"：\"{value}\" 不是数字"),
            NonFinite {
                line,
                column,
                value,
            } => format!("第 {line} 行：列 \"{column}\"：\"{value}\" 不是有限数值"),
            DuplicateUnit { line, unit } => format!("第 {line} 行：单位 \"{unit}\" 重复出现"),
            TooFewUnits { count } => format!("至少需要 2 个单位才能比较，实际只有 {count} 个"),
            InconsistentTable { detail } => format!("单位数据表不一致：{detail}"),
            UnknownColumn { column } => format!("未知的列 \"{column}\""),
            UnknownMethod { method } => format!(
                "未知的评价方法 \"{method}\"：可选 entropy、ahp、topsis、entropy-topsis、dea-ccr、dea-bcc"
            ),
            UnknownOrientation { orientation } => {
                format!("未知的导向 \"{orientation}\"：可选 input（投入导向）或 output（产出导向）")
            }
            OptionNotApplicable { option, method } => {
                format!("参数 \"{option}\" 不适用于方法 {method}")
            }
            ZeroVariance { indicator } => {
                format!("指标 \"{indicator}\" 对所有单位取值相同，无法标准化，请删除该指标")
            }
            WeightCount { expected, found } => {
                format!("给出了 {found} 个权重，但共有 {expected} 个指标")
            }
            InvalidWeight { indicator, value } => {
                format!("指标 \"{indicator}\" 的权重 {value} 必须是不小于 0 的有限数")
            }
            ZeroWeights => "权重之和为零".to_string(),
            AllUnitsIdentical => "所有单位在各个有权重的指标上完全相同，无法排序".to_string(),
            AhpMatrixMissing => "层次分析法（ahp）需要提供两两比较判断矩阵".to_string(),
            AhpMatrixEmpty => "两两比较判断矩阵为空".to_string(),
            AhpBadValue {
                line,
                position,
                value,
            } => format!(
                "判断矩阵第 {line} 行第 {position} 列：\"{value}\" 不是数字或 1/3 这样的分数"
            ),
            AhpNotSquare {
                row,
                found,
                expected,
            } => format!("判断矩阵必须是方阵：第 {row} 行有 {found} 个值，应为 {expected} 个"),
            AhpTooLarge { size } => format!("判断矩阵有 {size} 个准则，最多支持 15 个"),
            AhpNotPositive { row, column, value } => {
                format!("判断值 ({row}, {column}) = {value} 必须为正数")
            }
            AhpNotReciprocal {
                row,
                column,
                value,
                mirror,
                expected,
            } => format!(
                "判断矩阵不满足互反性：({row}, {column}) = {value}，而 ({column}, {row}) = {mirror}，应为 {expected}"
            ),
            AhpHeaderLength { found, expected } => {
                format!("判断矩阵表头列出 {found} 个准则，但矩阵有 {expected} 行")
            }
            AhpHeaderMismatch {
                position,
                header,
                row,
            } => format!(
                "判断矩阵第 {position} 个准则：表头名称 \"{header}\" 与行名称 \"{row}\" 不一致"
            ),
            AhpSizeMismatch { matrix, indicators } => {
                format!("判断矩阵有 {matrix} 个准则，但数据表有 {indicators} 个指标")
            }
            AhpUnknownCriterion { name } => {
                format!("判断矩阵中的准则 \"{name}\" 不是数据表中的指标")
            }
            AhpInconsistent { cr } => {
                format!("判断矩阵一致性检验未通过：CR = {cr:.4}（应小于 0.1），请调整两两比较")
            }
            AhpNotConverged => "判断矩阵的主特征向量迭代未收敛".to_string(),
            DeaNoInputs => "DEA 至少需要一个投入列".to_string(),
            DeaNoOutputs => "DEA 至少需要一个产出列".to_string(),
            DeaColumnInBothRoles { column } => {
                format!("列 \"{column}\" 不能同时作为投入和产出")
            }
            DeaNegative {
                unit,
                column,
                value,
            } => format!("单位 \"{unit}\" 的列 \"{column}\" 为负数 {value}；DEA 要求数据非负"),
            DeaNoPositiveInput { unit } => {
                format!("单位 \"{unit}\" 没有任何正的投入；DEA 至少需要一个")
            }
            DeaNoPositiveOutput { unit } => {
                format!("单位 \"{unit}\" 没有任何正的产出；DEA 至少需要一个")
            }
            DeaSolverFailed { unit, detail } => {
                format!("单位 \"{unit}\" 的线性规划求解失败：{detail}")
            }
            NonFiniteResult { detail } => format!("计算结果出现非有限数值（{detail}）"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_messages_name_the_culprit() {
        let err = EvaluationError::NotANumber {
            line: 3,
            column: "jobs".into(),
            value: "abc".into(),
        };
        assert_eq!(err.code(), "not_a_number");
        assert!(
            err.code()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
        );
        assert_eq!(err.en(), "line 3: column \"jobs\": \"abc\" is not a number");
        assert_eq!(err.zh(), "第 3 行：列 \"jobs\"：\"abc\" 不是数字");
    }

    #[test]
    fn inconsistency_message_shows_the_ratio() {
        let err = EvaluationError::AhpInconsistent { cr: 0.1234567 };
        assert!(err.en().contains("CR = 0.1235"), "{}", err.en());
        assert!(err.zh().contains("CR = 0.1235"), "{}", err.zh());
    }
}
