//! The CAMEO event-code table with Goldstein conflict–cooperation values,
//! embedded from `data/cameo-goldstein.csv` (GDELT's lookup table).

use std::sync::OnceLock;

/// One CAMEO code.
#[derive(Debug, Clone, PartialEq)]
pub struct CameoEntry {
    /// The code as written, e.g. `"163"` (leading zeros matter: `"010"`).
    pub code: String,
    /// Its label.
    pub label: String,
    /// Goldstein value, −10 (most hostile) to +10 (most cooperative).
    pub goldstein: f64,
    /// `verbal_cooperation`, `material_cooperation`, `verbal_conflict` or `material_conflict`.
    pub quad_class: String,
}

const TABLE: &str = include_str!("../data/cameo-goldstein.csv");

/// Every code in the table, in file order.
pub fn table() -> &'static [CameoEntry] {
    static PARSED: OnceLock<Vec<CameoEntry>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let body: String = TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        reader
            .records()
            .map(|r| {
                let r = r.expect("the embedded CAMEO table is valid CSV (checked by a test)");
                CameoEntry {
                    code: r[0].to_string(),
                    label: r[1].to_string(),
                    goldstein: r[2]
                        .parse()
                        .expect("the embedded Goldstein values are numbers"),
                    quad_class: r[3].to_string(),
                }
            })
            .collect()
    })
}

/// Looks a code up.
pub fn lookup(code: &str) -> Option<&'static CameoEntry> {
    table().iter().find(|e| e.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_code() {
        assert_eq!(table().len(), 311);
        let e = lookup("163").expect("163 is in the table");
        assert_eq!(e.goldstein, -8.0);
        assert_eq!(lookup("114").map(|e| e.goldstein), Some(-2.0));
        assert!(lookup("999").is_none());
    }
}
