//! A small SQL text builder with typed parameters, so that dynamic filters
//! are written once and bound on either backend by [`bind_params!`].

/// One bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    I32(i32),
    I64(i64),
    Bool(bool),
}

/// SQL text with `$n` placeholders and their values, in order.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    pub params: Vec<Param>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends raw SQL.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// The text for sqlx. It is built only from fixed fragments and `$n`
    /// placeholders; every value is bound, never spliced in.
    pub fn text(&self) -> sqlx::AssertSqlSafe<&str> {
        sqlx::AssertSqlSafe(&self.text)
    }

    /// Encloses the query in an outer one, `prefix` before and `suffix`
    /// after; the parameters stay with it.
    pub fn wrap(mut self, prefix: &str, suffix: &str) -> Sql {
        self.text.insert_str(0, prefix);
        self.text.push_str(suffix);
        self
    }

    /// Adds a parameter and returns its placeholder, e.g. `$3`.
    pub fn param(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }
}

/// Binds every parameter of an [`Sql`] onto a sqlx query of either backend.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for param in $params {
            q = match param {
                $crate::sql::Param::Text(v) => q.bind(v.clone()),
                $crate::sql::Param::I32(v) => q.bind(*v),
                $crate::sql::Param::I64(v) => q.bind(*v),
                $crate::sql::Param::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}
pub(crate) use bind_params;
