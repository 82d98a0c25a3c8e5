//! [`LocalTemplateDirectory`]: the offline stand-in for Meta's template endpoints.
//!
//! The local engine runs without Meta, so where the AWS deployment lists and creates
//! WhatsApp templates through the Graph API ([`GraphClient`]), it uses this directory
//! instead, as it uses the [`Outbox`] instead of sending. Nothing reaches Meta: a template
//! "created" here is only written down, and no one reviews it.
//!
//! # The file
//!
//! With a path, templates live in one JSON file that operators may edit:
//!
//! ```json
//! {
//!   "accounts": {
//!     "102290129340398": [
//!       {
//!         "id": "1760000000000001",
//!         "name": "order_update",
//!         "language": "en_US",
//!         "category": "UTILITY",
//!         "status": "APPROVED",
//!         "rejected_reason": null,
//!         "components": [
//!           {"type": "BODY", "text": "Hi {{1}}, your order is ready.",
//!            "example": {"body_text": [["Ann"]]}}
//!         ]
//!       }
//!     ]
//!   }
//! }
//! ```
//!
//! `accounts` maps a WhatsApp Business Account id to its templates. Each item has exactly
//! the shape of an item of Meta's template list (`components` as Meta writes them), and is
//! read by the same code as Meta's answer: items without `id`, `name` or `language` are
//! skipped, a missing `status` is `UNKNOWN`, `rejected_reason` `"NONE"` is no reason.
//!
//! - A missing file means no templates; it is created by the first create (with its
//!   directory). An unreadable file fails every call as [`DirectoryError::Unavailable`]
//!   and is never overwritten.
//! - Writes go to `<file>.tmp` first and are renamed over the file, so a crash leaves the
//!   old or the new file, never half of one. One lock serializes this directory's reads
//!   and writes; the file is read again on every call, so edits show without a restart.
//! - Items already in the file are written back exactly as they were (formatting and key
//!   order included); keys other than `accounts` at the top level are dropped.
//!
//! **Approving a template locally**: a created template is `PENDING`, like at Meta. Edit
//! its `"status"` in the file to `"APPROVED"` (or `"REJECTED"` with a `"rejected_reason"`,
//! `"PAUSED"`, …) and refresh the chatbot's catalogue.
//!
//! Without a path everything stays in memory and is lost when the process ends (tests).
//!
//! # What is checked
//!
//! Like Meta: an account id that is not 1 to 32 digits is
//! [`DirectoryError::AccountNotAccessible`], and a create with a name and language the
//! account already has is refused on `name` (Meta's subcode 2388024). The access token
//! is ignored: any token lists and creates, and it is never written anywhere.
//!
//! [`GraphClient`]: crate::GraphClient
//! [`Outbox`]: crate::Outbox

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use followup_domain::{FieldError, MessageTemplate, NewMessageTemplate, Secret, TemplateStatus};
use followup_ports::{CreatedTemplate, DirectoryError, TemplateDirectory};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::Mutex;

use crate::templates::{
    META_REJECTED, NewComponent, is_waba_id, new_components, parse_listed, parse_listed_items,
};

/// Each account's items, as they are in the file.
type Accounts = BTreeMap<String, Vec<Box<RawValue>>>;

#[derive(Default, Serialize, Deserialize)]
struct LocalFile {
    #[serde(default)]
    accounts: Accounts,
}

/// A new item, in the file's (Meta's list) shape.
#[derive(Serialize)]
struct NewItem<'a> {
    id: &'a str,
    name: &'a str,
    language: &'a str,
    category: &'static str,
    status: &'static str,
    rejected_reason: Option<&'a str>,
    components: Vec<NewComponent<'a>>,
}

/// Where a new item starts in the pretty-printed file: `accounts` → account → list.
const ITEM_INDENT: &str = "      ";

/// The offline stand-in for Meta's template endpoints, used by the local engine instead
/// of the Graph API. See the module docs for the file it keeps.
pub struct LocalTemplateDirectory {
    path: Option<PathBuf>,
    /// The templates when there is no file; with a file, only the lock.
    memory: Mutex<Accounts>,
    /// Makes ids created in the same millisecond differ.
    counter: AtomicU64,
}

impl LocalTemplateDirectory {
    /// Keeps templates in the JSON file at `path` (created on the first create), or in
    /// memory only when `path` is `None`.
    pub fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            memory: Mutex::new(Accounts::new()),
            counter: AtomicU64::new(0),
        }
    }

    /// The file, if templates are kept in one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    async fn load(&self, memory: &Accounts) -> Result<Accounts, DirectoryError> {
        match &self.path {
            None => Ok(memory.clone()),
            Some(path) => read_file(path.clone()).await,
        }
    }

    async fn save(&self, memory: &mut Accounts, accounts: Accounts) -> Result<(), DirectoryError> {
        match &self.path {
            None => {
                *memory = accounts;
                Ok(())
            }
            Some(path) => write_file(path.clone(), LocalFile { accounts }).await,
        }
    }

    /// A numeric id like Meta's: milliseconds since 1970, three digits of counter, and
    /// never one already in the file.
    fn fresh_id(&self, taken: &BTreeSet<String>) -> String {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        let mut candidate = millis
            .saturating_mul(1_000)
            .saturating_add(self.counter.fetch_add(1, Ordering::Relaxed) % 1_000);
        while taken.contains(&candidate.to_string()) {
            candidate = candidate.wrapping_add(1);
        }
        candidate.to_string()
    }
}

/// Shows where templates are kept, not the templates.
impl fmt::Debug for LocalTemplateDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalTemplateDirectory")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn unavailable(path: &Path, what: impl fmt::Display) -> DirectoryError {
    DirectoryError::Unavailable(format!("local template file {}: {what}", path.display()))
}

async fn read_file(path: PathBuf) -> Result<Accounts, DirectoryError> {
    let shown = path.clone();
    let read = tokio::task::spawn_blocking(move || std::fs::read(&path))
        .await
        .map_err(|e| unavailable(&shown, e))?;
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Accounts::new()),
        Err(err) => return Err(unavailable(&shown, err)),
    };
    let file: LocalFile = serde_json::from_slice(&bytes).map_err(|err| {
        tracing::warn!(path = %shown.display(), line = err.line(), column = err.column(), "local templates: unreadable file");
        unavailable(
            &shown,
            format_args!("not readable at line {}, column {}", err.line(), err.column()),
        )
    })?;
    Ok(file.accounts)
}

async fn write_file(path: PathBuf, file: LocalFile) -> Result<(), DirectoryError> {
    let shown = path.clone();
    let mut text = serde_json::to_vec_pretty(&file).map_err(|e| unavailable(&shown, e))?;
    text.push(b'\n');
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
        temp_name.push(".tmp");
        let temp = path.with_file_name(temp_name);
        let mut out = std::fs::File::create(&temp)?;
        out.write_all(&text)?;
        out.sync_all()?;
        drop(out);
        std::fs::rename(&temp, &path)
    })
    .await
    .map_err(|e| unavailable(&shown, e))?
    .map_err(|e| unavailable(&shown, e))
}

fn item_json(item: &NewItem<'_>) -> Result<Box<RawValue>, serde_json::Error> {
    // Pretty like the rest of the file: JSON strings hold no raw newline, so every
    // newline is between tokens and can take the item's indentation.
    let pretty = serde_json::to_string_pretty(item)?.replace('\n', &format!("\n{ITEM_INDENT}"));
    RawValue::from_string(pretty)
}

#[async_trait]
impl TemplateDirectory for LocalTemplateDirectory {
    /// The account's templates; none for an account the file does not name. The token is
    /// ignored.
    async fn list_templates(
        &self,
        waba_id: &str,
        _access_token: &Secret,
    ) -> Result<Vec<MessageTemplate>, DirectoryError> {
        if !is_waba_id(waba_id) {
            return Err(DirectoryError::AccountNotAccessible);
        }
        let memory = self.memory.lock().await;
        let accounts = self.load(&memory).await?;
        drop(memory);
        let Some(items) = accounts.get(waba_id) else {
            return Ok(Vec::new());
        };
        let (templates, skipped) = parse_listed_items(waba_id, items);
        if skipped > 0 {
            tracing::warn!(waba = %waba_id, skipped, "local templates: items without id, name or language skipped");
        }
        Ok(templates)
    }

    /// Adds the template as `PENDING`, unless the account has one of that name and
    /// language. The token is ignored.
    async fn create_template(
        &self,
        waba_id: &str,
        _access_token: &Secret,
        template: &NewMessageTemplate,
    ) -> Result<CreatedTemplate, DirectoryError> {
        if !is_waba_id(waba_id) {
            return Err(DirectoryError::AccountNotAccessible);
        }
        let (name, language) = (template.name.as_str(), template.language.as_str());
        let mut memory = self.memory.lock().await;
        let mut accounts = self.load(&memory).await?;
        let exists = accounts.get(waba_id).is_some_and(|items| {
            items
                .iter()
                .filter_map(|item| parse_listed(waba_id, item))
                .any(|t| t.matches(name, language))
        });
        if exists {
            return Err(DirectoryError::Invalid(vec![FieldError::new(
                "name",
                META_REJECTED,
                "a template with this name and language already exists",
            )]));
        }
        let taken: BTreeSet<String> = accounts
            .iter()
            .flat_map(|(waba, items)| items.iter().filter_map(|i| parse_listed(waba, i)))
            .map(|t| t.template_id)
            .collect();
        let id = self.fresh_id(&taken);
        let components_json = serde_json::to_string(&new_components(template)).map_err(|e| {
            DirectoryError::Unavailable(format!("the template could not be serialized: {e}"))
        })?;
        let item = item_json(&NewItem {
            id: &id,
            name,
            language,
            category: template.category.as_str(),
            status: TemplateStatus::Pending.as_str(),
            rejected_reason: None,
            components: new_components(template),
        })
        .map_err(|e| {
            DirectoryError::Unavailable(format!("the template could not be serialized: {e}"))
        })?;
        accounts.entry(waba_id.to_owned()).or_default().push(item);
        self.save(&mut memory, accounts).await?;
        drop(memory);
        tracing::info!(waba = %waba_id, template_id = %id, "local templates: created, pending");
        Ok(CreatedTemplate {
            template_id: id,
            status: TemplateStatus::Pending,
            category: Some(template.category),
            components_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_ids_are_made_in_a_row_then_they_differ_and_skip_taken_ones() {
        let directory = LocalTemplateDirectory::new(None);
        let first = directory.fresh_id(&BTreeSet::new());
        let taken: BTreeSet<String> = [first.clone()].into();
        let second = directory.fresh_id(&taken);
        assert_ne!(first, second);
        assert!(first.bytes().all(|b| b.is_ascii_digit()));
        assert!(second.len() >= 13);
    }

    #[test]
    fn when_debug_printed_then_only_the_path_shows() {
        let directory = LocalTemplateDirectory::new(Some(PathBuf::from("/tmp/t.json")));
        assert_eq!(
            format!("{directory:?}"),
            "LocalTemplateDirectory { path: Some(\"/tmp/t.json\"), .. }"
        );
    }
}
