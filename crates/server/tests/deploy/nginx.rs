//! Enough of nginx's configuration syntax to read deploy/nginx.conf: directives (`name args;`)
//! and blocks (`name args { … }`), `#` comments, and quoted arguments.

/// One directive, with its block when it has one.
#[derive(Debug, Clone)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub block: Vec<Directive>,
}

fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                flush(&mut word, &mut out);
                while chars.next_if(|&c| c != '\n').is_some() {}
            }
            '"' | '\'' => {
                // A quoted argument, possibly empty (`Connection ""`).
                let mut quoted = String::new();
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    quoted.push(q);
                }
                word.push_str(&quoted);
                out.push(std::mem::take(&mut word));
            }
            '{' | '}' | ';' => {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

fn parse_block(tokens: &mut std::vec::IntoIter<String>, top: bool) -> Vec<Directive> {
    let mut block = Vec::new();
    let mut current: Vec<String> = Vec::new();
    while let Some(t) = tokens.next() {
        match t.as_str() {
            ";" => {
                assert!(!current.is_empty(), "an empty directive");
                let name = current.remove(0);
                block.push(Directive {
                    name,
                    args: std::mem::take(&mut current),
                    block: Vec::new(),
                });
            }
            "{" => {
                assert!(!current.is_empty(), "a block without a name");
                let name = current.remove(0);
                block.push(Directive {
                    name,
                    args: std::mem::take(&mut current),
                    block: parse_block(tokens, false),
                });
            }
            "}" => {
                assert!(!top, "an unbalanced }}");
                assert!(current.is_empty(), "{current:?} lacks its ;");
                return block;
            }
            _ => current.push(t),
        }
    }
    assert!(top, "a block is not closed");
    assert!(current.is_empty(), "{current:?} lacks its ;");
    block
}

/// The directives of a configuration file (or of a `conf.d` excerpt).
pub fn parse(text: &str) -> Vec<Directive> {
    parse_block(&mut tokens(text).into_iter(), true)
}

/// The directives named `name` in `block`, not looking inside nested blocks.
pub fn all<'a>(block: &'a [Directive], name: &str) -> Vec<&'a Directive> {
    block.iter().filter(|d| d.name == name).collect()
}

/// The one directive named `name` in `block`.
pub fn one<'a>(block: &'a [Directive], name: &str) -> &'a Directive {
    let found = all(block, name);
    assert_eq!(found.len(), 1, "one `{name}` in {block:?}");
    found[0]
}

#[test]
fn the_parser_reads_blocks_quotes_and_comments() {
    let conf = parse(
        "upstream u { server a:1 max_fails=2; # a comment; with { braces\n keepalive 4; }\n\
         server { location / { proxy_set_header Connection \"\"; } }",
    );
    assert_eq!(conf.len(), 2);
    let upstream = one(&conf, "upstream");
    assert_eq!(upstream.args, ["u"]);
    assert_eq!(one(&upstream.block, "server").args, ["a:1", "max_fails=2"]);
    assert_eq!(one(&upstream.block, "keepalive").args, ["4"]);
    let location = one(&one(&conf, "server").block, "location");
    assert_eq!(
        one(&location.block, "proxy_set_header").args,
        ["Connection", ""]
    );
}

#[test]
#[should_panic(expected = "lacks its ;")]
fn the_parser_refuses_a_missing_semicolon() {
    parse("server { listen 80 }");
}
