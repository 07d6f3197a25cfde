//! The `vocabulary!` macro: a closed set of domain terms, each with a stable
//! storage key (used in the database, the API and files) and its zh-CN and
//! English labels. One definition serves every layer, so a key never drifts.

/// Defines an enum whose variants carry a storage key and two labels.
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $code:literal, $what_zh:literal, $what_en:literal {
            $( $(#[$vmeta:meta])* $variant:ident = ($key:literal, $zh:literal, $en:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $key)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The stable storage key.
            pub fn key(self) -> &'static str {
                match self { $( $name::$variant => $key ),+ }
            }

            /// The zh-CN label.
            pub fn zh(self) -> &'static str {
                match self { $( $name::$variant => $zh ),+ }
            }

            /// The English label.
            pub fn en(self) -> &'static str {
                match self { $( $name::$variant => $en ),+ }
            }

            /// Looks a value up by its key, its zh-CN label or its English
            /// label (case-insensitive), as people type them in spreadsheets.
            pub fn parse(s: &str) -> Result<Self, $crate::DomainError> {
                let t = $crate::text::trim(s);
                $( if t == $key || t == $zh || t.eq_ignore_ascii_case($en) { return Ok($name::$variant); } )+
                let keys: Vec<&str> = Self::ALL.iter().map(|v| v.key()).collect();
                Err($crate::DomainError::new(
                    $code,
                    format!("{}“{}”无效，可选值：{}", $what_zh, t, keys.join("、")),
                    format!("{} \"{}\" is invalid; expected one of: {}", $what_en, t, keys.join(", ")),
                ))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
