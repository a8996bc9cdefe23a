//! The pages' HTML: an escaping helper for every value a page interpolates, and the layout every
//! page shares (the sign-in page now; a console and an OAuth consent screen later). Pages are
//! plain `format!` strings: each interpolated value goes through [`Escaped`], each fragment a
//! page builds from escaped values is passed on as trusted markup.

use std::fmt;

/// A value written into HTML text or a quoted attribute: `&`, `<`, `>`, `"` and `'` become
/// character references, so it can neither end the element or attribute it is in nor start a
/// tag. (Never use it for an unquoted attribute, a URL's scheme, a `<script>` or a `<style>`:
/// no page does.)
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// Where the pages' stylesheet and script are served.
pub const STYLESHEET: &str = "/signin/signin.css";

/// Where the pages' script is served.
pub const SCRIPT: &str = "/signin/signin.js";

/// A whole page: `title` (text, escaped here) and `main` (markup the page built, every value in
/// it already escaped), inside the shared frame: language, viewport, the stylesheet and the
/// script (no inline script or style anywhere: the pages' Content-Security-Policy forbids them),
/// a skip link, and the banner, main and footer landmarks.
#[must_use]
pub fn layout(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n\
         <head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Tessera</title>\n\
         <link rel=\"stylesheet\" href=\"{STYLESHEET}\">\n\
         <script src=\"{SCRIPT}\" defer></script>\n\
         </head>\n\
         <body>\n\
         <a class=\"skip\" href=\"#main\">Skip to the content</a>\n\
         <header class=\"banner\"><p class=\"brand\">Tessera</p></header>\n\
         <main id=\"main\" tabindex=\"-1\">\n{main}\n</main>\n\
         <footer><p>Building a client? The API reference is at <a href=\"/docs/\">/docs</a>.</p></footer>\n\
         </body>\n\
         </html>\n",
        title = Escaped(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_that_can_leave_text_or_an_attribute_is_escaped() {
        assert_eq!(
            Escaped(r#"<script>alert("x&y's")</script>"#).to_string(),
            "&lt;script&gt;alert(&quot;x&amp;y&#39;s&quot;)&lt;/script&gt;"
        );
        assert_eq!(
            Escaped("plain text, ünïcödé ✓").to_string(),
            "plain text, ünïcödé ✓"
        );
        assert_eq!(Escaped("").to_string(), "");
        assert_eq!(
            Escaped("&amp;").to_string(),
            "&amp;amp;",
            "escaped once more, not skipped"
        );
        assert_eq!(
            Escaped("\"><img src=x onerror=alert(1)>").to_string(),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
    }

    #[test]
    fn no_escaped_value_holds_a_character_that_ends_an_element_or_attribute() {
        // Every string of these characters, up to length 3.
        let alphabet = ['&', '<', '>', '"', '\'', 'a', ';', '#', '='];
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        for text in &texts {
            let out = Escaped(text).to_string();
            assert!(!out.contains(['<', '>', '"', '\'']), "{text:?} -> {out:?}");
            // Unescaping gives the text back.
            let back = out
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            assert_eq!(&back, text);
        }
    }

    #[test]
    fn the_layout_escapes_its_title_and_names_its_landmarks_and_assets() {
        let page = layout("<Sign in>", "<p>hello</p>");
        assert!(page.contains("<title>&lt;Sign in&gt; · Tessera</title>"));
        assert!(page.contains("<p>hello</p>"), "main is markup");
        assert!(page.contains("<html lang=\"en\">"));
        for landmark in ["<header", "<main id=\"main\"", "<footer"] {
            assert!(page.contains(landmark), "{landmark}");
        }
        assert!(page.contains("<script src=\"/signin/signin.js\" defer></script>"));
        assert!(!page.contains("<script>"), "no inline script");
        assert!(!page.contains("<style"), "no inline style");
    }
}
