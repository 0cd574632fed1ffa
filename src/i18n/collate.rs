//! Alphabetical order as Kazakh and Russian readers expect it. Code-point order puts the
//! Kazakh letters (Ә, Ғ, Қ, Ң, Ө, Ұ, Ү, Һ, І) after Я; people look for «Қарағанды» right after
//! «Кентау».

use crate::domain::Language;

const KAZAKH: &str = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя";
const RUSSIAN: &str = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя";

/// A key that sorts names in the language's alphabetical order, case-insensitively;
/// letters outside the alphabet (Latin, digits) sort by code point before it.
pub fn collation_key(lang: Language, text: &str) -> Vec<u32> {
    let alphabet = match lang {
        Language::Kk => KAZAKH,
        Language::Ru => RUSSIAN,
    };
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match alphabet.chars().position(|a| a == c) {
            Some(i) => 0x11_0000 + i as u32,
            // Kazakh letters in a Russian name still sort after the Russian ones.
            None => match KAZAKH.chars().position(|a| a == c) {
                Some(i) => 0x11_0100 + i as u32,
                None => c as u32,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kazakh_letters_sit_in_their_place() {
        let mut names = vec![
            "Қарағанды",
            "Шымкент",
            "Кентау",
            "Ақтөбе",
            "Әйтеке би",
            "Лисаковск",
            "Өскемен",
            "Орал",
        ];
        names.sort_by_key(|n| collation_key(Language::Kk, n));
        assert_eq!(
            names,
            [
                "Ақтөбе",
                "Әйтеке би",
                "Кентау",
                "Қарағанды",
                "Лисаковск",
                "Орал",
                "Өскемен",
                "Шымкент"
            ]
        );
    }

    #[test]
    fn russian_is_case_insensitive_and_ё_follows_е() {
        let mut names = vec!["ёлка", "Ель", "алматы", "Ж"];
        names.sort_by_key(|n| collation_key(Language::Ru, n));
        assert_eq!(names, ["алматы", "Ель", "ёлка", "Ж"]);
    }
}
