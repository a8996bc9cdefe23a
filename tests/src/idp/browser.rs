//! [`IdpBrowser`]: a person signing in through the test IdP's pages, as a browser does.

use std::fmt;
use std::sync::Mutex;

use reqwest::Url;

/// The forms [`IdpBrowser`] submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdpForm {
    /// The login form (login and password).
    Login,
    /// The consent form.
    Consent,
}

/// Why [`IdpBrowser::sign_in`] did not reach the relying party.
#[derive(Debug)]
pub enum SignInError {
    /// The login form came back (HTTP 401): wrong login or password.
    Rejected,
    /// A page that is neither a redirect nor one of the provider's forms.
    Unexpected {
        /// Its URL.
        url: String,
        /// Its status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// More than 20 pages without reaching the relying party.
    TooManySteps,
    /// The request failed.
    Http(reqwest::Error),
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected => write!(f, "the IdP rejected the login or password"),
            Self::Unexpected { url, status, body } => {
                write!(f, "unexpected {status} at {url}: {body}")
            }
            Self::TooManySteps => write!(f, "too many pages without reaching the relying party"),
            Self::Http(e) => write!(f, "request failed: {e}"),
        }
    }
}

impl std::error::Error for SignInError {}

impl From<reqwest::Error> for SignInError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// A person's browser at the provider: a cookie jar (so the provider's session carries over to
/// the next sign-in, as in a browser) and no automatic redirects.
pub struct IdpBrowser {
    http: reqwest::Client,
    forms: Mutex<Vec<IdpForm>>,
}

impl Default for IdpBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl IdpBrowser {
    /// A browser with an empty cookie jar.
    ///
    /// # Panics
    /// When the HTTP client cannot be built.
    #[must_use]
    pub fn new() -> Self {
        tessera_server::idp::install_crypto_provider();
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            forms: Mutex::new(Vec::new()),
        }
    }

    /// The forms submitted so far, in order.
    ///
    /// # Panics
    /// When a previous sign-in panicked while holding the list.
    #[must_use]
    pub fn forms_submitted(&self) -> Vec<IdpForm> {
        self.forms.lock().expect("forms").clone()
    }

    /// Follows `authorization_url` (the `Location` Tessera's `/v1/sso/login` answers) through the
    /// provider's redirects and pages on its host, fills the login form with `login` and
    /// `password` and accepts a consent page, and answers the first redirect that leaves the
    /// provider's host (`…/v1/sso/callback?code=…&state=…&iss=…`, or `?error=…`) without
    /// requesting it. When the provider's session cookie is still valid, no form is shown.
    ///
    /// # Errors
    /// [`SignInError::Rejected`] when the provider answers the login form with it again (wrong
    /// login or password), [`SignInError::Unexpected`] for an error page.
    pub async fn sign_in(
        &self,
        authorization_url: &str,
        login: &str,
        password: &str,
    ) -> Result<Url, SignInError> {
        let mut url = Url::parse(authorization_url).map_err(|_| SignInError::Unexpected {
            url: authorization_url.into(),
            status: 0,
            body: "not a URL".into(),
        })?;
        let idp = url.origin();
        let mut res = self.http.get(url.clone()).send().await?;
        for _ in 0..20 {
            let status = res.status();
            if status.is_redirection() {
                let location = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok());
                let Some(next) = location else {
                    return Err(unexpected(url, res).await);
                };
                if next.origin() != idp {
                    return Ok(next);
                }
                url = next;
                res = self.http.get(url.clone()).send().await?;
                continue;
            }
            let page_url = url.clone();
            let body = res.text().await?;
            let Some(form) = Form::parse(&body) else {
                return Err(SignInError::Unexpected {
                    url: page_url.into(),
                    status: status.as_u16(),
                    body: body.chars().take(500).collect(),
                });
            };
            if status == 401 && form.kind == IdpForm::Login {
                return Err(SignInError::Rejected);
            }
            if status != 200 {
                return Err(SignInError::Unexpected {
                    url: page_url.into(),
                    status: status.as_u16(),
                    body: body.chars().take(500).collect(),
                });
            }
            let mut fields = form.fields;
            if form.kind == IdpForm::Login {
                fields.retain(|(name, _)| name != "login" && name != "password");
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), password.into()));
            }
            self.forms.lock().expect("forms").push(form.kind);
            url = page_url
                .join(&form.action)
                .map_err(|_| SignInError::Unexpected {
                    url: page_url.to_string(),
                    status: 200,
                    body: format!("form action {:?}", form.action),
                })?;
            res = self.http.post(url.clone()).form(&fields).send().await?;
        }
        Err(SignInError::TooManySteps)
    }
}

async fn unexpected(url: Url, res: reqwest::Response) -> SignInError {
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    SignInError::Unexpected {
        url: url.into(),
        status,
        body: body.chars().take(500).collect(),
    }
}

/// A `<form method="post">` of the provider's pages (tests/idp/lib/interactions.mjs): its
/// action and named inputs. Not a general HTML parser: those pages quote every attribute.
struct Form {
    kind: IdpForm,
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn parse(html: &str) -> Option<Self> {
        let start = html.find("<form")?;
        let end = start + html[start..].find("</form>")?;
        let form = &html[start..end];
        let action = attr(&form[..form.find('>')?], "action")?;
        let mut fields = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("<input") {
            let tag_end = rest[i..].find('>')? + i;
            let tag = &rest[i..tag_end];
            if let Some(name) = attr(tag, "name") {
                fields.push((name, attr(tag, "value").unwrap_or_default()));
            }
            rest = &rest[tag_end..];
        }
        let kind = if fields.iter().any(|(n, _)| n == "password") {
            IdpForm::Login
        } else {
            IdpForm::Consent
        };
        Some(Self {
            kind,
            action,
            fields,
        })
    }
}

/// The value of ` name="…"` in `tag`, with the entities the provider's pages escape decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(
        tag[start..start + len]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
