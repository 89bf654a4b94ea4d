//! The document's fixed words in the customer's language (English when there is none).

/// The quote document's words in one language.
#[derive(Debug)]
pub struct Labels {
    pub quote: &'static str,
    pub version: &'static str,
    pub date: &'static str,
    pub valid_until: &'static str,
    pub reference: &'static str,
    pub customer: &'static str,
    pub description: &'static str,
    pub quantity: &'static str,
    pub unit_price: &'static str,
    pub amount: &'static str,
    pub subtotal: &'static str,
    pub total: &'static str,
    pub view_online: &'static str,
    pub continued: &'static str,
    /// `{page}` and `{count}` are replaced.
    pub page: &'static str,
}

const EN: Labels = Labels {
    quote: "Quote",
    version: "Version",
    date: "Date",
    valid_until: "Valid until",
    reference: "Reference",
    customer: "Customer",
    description: "Description",
    quantity: "Qty",
    unit_price: "Unit price",
    amount: "Amount",
    subtotal: "Subtotal",
    total: "Total",
    view_online: "View and accept this quote online:",
    continued: "continued",
    page: "Page {page} of {count}",
};

const DE: Labels = Labels {
    quote: "Angebot",
    version: "Version",
    date: "Datum",
    valid_until: "Gültig bis",
    reference: "Referenz",
    customer: "Kunde",
    description: "Beschreibung",
    quantity: "Menge",
    unit_price: "Einzelpreis",
    amount: "Betrag",
    subtotal: "Zwischensumme",
    total: "Gesamtbetrag",
    view_online: "Angebot online ansehen und annehmen:",
    continued: "Fortsetzung",
    page: "Seite {page} von {count}",
};

const NL: Labels = Labels {
    quote: "Offerte",
    version: "Versie",
    date: "Datum",
    valid_until: "Geldig tot",
    reference: "Referentie",
    customer: "Klant",
    description: "Omschrijving",
    quantity: "Aantal",
    unit_price: "Stukprijs",
    amount: "Bedrag",
    subtotal: "Subtotaal",
    total: "Totaal",
    view_online: "Bekijk en accepteer deze offerte online:",
    continued: "vervolg",
    page: "Pagina {page} van {count}",
};

const PL: Labels = Labels {
    quote: "Oferta",
    version: "Wersja",
    date: "Data",
    valid_until: "Ważna do",
    reference: "Numer referencyjny",
    customer: "Klient",
    description: "Opis",
    quantity: "Ilość",
    unit_price: "Cena jedn.",
    amount: "Kwota",
    subtotal: "Suma częściowa",
    total: "Razem",
    view_online: "Zobacz i zaakceptuj ofertę online:",
    continued: "ciąg dalszy",
    page: "Strona {page} z {count}",
};

/// The words for a language subtag (`de`, `nl`, `pl`; English otherwise).
pub fn for_language(language: &str) -> &'static Labels {
    match language {
        "de" => &DE,
        "nl" => &NL,
        "pl" => &PL,
        _ => &EN,
    }
}
