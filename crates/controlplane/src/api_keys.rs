//! ApiKeys: account-wide keys that usage plans meter. Effective at once (not deployed).

use portico_model::patch::PatchOp;
use portico_model::{ids, time, v1};
use portico_store::{Expect, Key, Kind, Write};

use crate::patching::{self, invalid_path_must_be};
use crate::state::to_json;
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("Invalid API Key identifier specified")
}

fn check_name(name: Option<&str>) -> Result<(), ApiError> {
    if name.is_some_and(|n| n.chars().count() > 1024) {
        return Err(ApiError::bad_request(
            "Invalid API Key name, can be at most 1024 characters.",
        ));
    }
    Ok(())
}

fn check_description(d: Option<&str>) -> Result<(), ApiError> {
    if d.is_some_and(|d| d.chars().count() > 125) {
        return Err(ApiError::bad_request(
            "Invalid API Key description specified.",
        ));
    }
    Ok(())
}

pub(crate) async fn all(cp: &ControlPlane) -> Result<Vec<v1::ApiKey>, ApiError> {
    cp.store
        .list(Kind::ApiKey, Some(""))
        .await?
        .iter()
        .map(|r| serde_json::from_str(&r.body).map_err(|e| ApiError::internal(e.to_string())))
        .collect()
}

pub(crate) async fn load(cp: &ControlPlane, id: &str) -> Result<(v1::ApiKey, u64), ApiError> {
    let rec = cp
        .store
        .get(&Key::new(Kind::ApiKey, "", id))
        .await?
        .ok_or_else(not_found)?;
    let key = serde_json::from_str(&rec.body).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((key, rec.revision))
}

/// Creates a key (shared by CreateApiKey and ImportApiKeys).
pub(crate) async fn create_key(
    cp: &ControlPlane,
    input: v1::CreateApiKeyRequest,
) -> Result<v1::ApiKey, ApiError> {
    check_name(input.name.as_deref())?;
    check_description(input.description.as_deref())?;
    let value = match input.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) if v.len() < 20 => {
            return Err(ApiError::bad_request(
                "API Key value should be at least 20 characters",
            ));
        }
        Some(v) if v.len() > 128 => {
            return Err(ApiError::bad_request(
                "API Key value exceeds maximum size of 128 characters",
            ));
        }
        Some(v) => v.to_string(),
        None => ids::short_id(40),
    };
    if all(cp)
        .await?
        .iter()
        .any(|k| k.value.as_deref() == Some(value.as_str()))
    {
        return Err(ApiError::conflict("API Key already exists"));
    }
    let now = time::now_epoch_seconds();
    let key = v1::ApiKey {
        id: Some(ids::short_id(10)),
        value: Some(value),
        name: input.name.filter(|n| !n.is_empty()),
        customer_id: input.customer_id,
        description: input.description.filter(|d| !d.is_empty()),
        enabled: Some(input.enabled.unwrap_or(false)),
        created_date: Some(now),
        last_updated_date: Some(now),
        stage_keys: Some(
            input
                .stage_keys
                .unwrap_or_default()
                .iter()
                .filter_map(|s| {
                    Some(format!(
                        "{}/{}",
                        s.rest_api_id.as_deref()?,
                        s.stage_name.as_deref()?
                    ))
                })
                .collect(),
        ),
        tags: input.tags.filter(|t| !t.is_empty()),
    };
    let id = key.id.clone().unwrap_or_default();
    cp.store
        .commit(vec![Write::Put {
            key: Key::new(Kind::ApiKey, "", &id),
            body: to_json(&key)?,
            expect: Expect::Absent,
        }])
        .await?;
    Ok(key)
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let key = create_key(cp, call.input()?).await?;
    Reply::json(&key)
}

fn without_value(mut k: v1::ApiKey) -> v1::ApiKey {
    k.value = None;
    k
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (key, _) = load(cp, call.param("api_Key")).await?;
    let include = call
        .query("includeValue")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Reply::json(if include { key } else { without_value(key) })
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let include = call
        .query("includeValues")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // `nameQuery` travels as `name` on the wire.
    let prefix = call.query("name").unwrap_or("");
    let customer = call.query("customerId");
    let mut keys: Vec<v1::ApiKey> = all(cp)
        .await?
        .into_iter()
        .filter(|k| k.name.as_deref().unwrap_or("").starts_with(prefix))
        .filter(|k| customer.is_none() || k.customer_id.as_deref() == customer)
        .collect();
    keys.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let items = keys
        .into_iter()
        .map(|k| serde_json::to_value(if include { k } else { without_value(k) }))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateApiKeyInput")?;
    let id = call.param("api_Key");
    let (mut key, rev) = load(cp, id).await?;
    for p in &patches {
        let field = p.segments.first().map(String::as_str).unwrap_or("");
        if p.segments.len() != 1
            || !["description", "enabled", "name", "customerId"].contains(&field)
        {
            return Err(invalid_path_must_be(
                p,
                "/description, /enabled, /name, /customerId",
            ));
        }
        if p.op != PatchOp::Replace {
            return Err(patching::unsupported_op(p));
        }
        let v = p.value.clone().filter(|v| !v.is_empty());
        match field {
            "description" => {
                check_description(v.as_deref())?;
                key.description = v;
            }
            "enabled" => key.enabled = Some(patching::bool_value(p)),
            "name" => {
                check_name(v.as_deref())?;
                key.name = v;
            }
            _ => key.customer_id = v,
        }
    }
    key.last_updated_date = Some(time::now_epoch_seconds());
    if key.tags.is_none() {
        key.tags = Some(Default::default());
    }
    cp.store
        .commit(vec![Write::Put {
            key: Key::new(Kind::ApiKey, "", id),
            body: to_json(&key)?,
            expect: Expect::Revision(rev),
        }])
        .await?;
    Reply::json(without_value(key))
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let id = call.param("api_Key").to_string();
    load(cp, &id).await?;
    let mut writes = vec![Write::Delete {
        key: Key::new(Kind::ApiKey, "", &id),
        expect: Expect::Any,
    }];
    for plan in cp.store.list(Kind::UsagePlan, Some("")).await? {
        let k = Key::new(Kind::UsagePlanKey, plan.key.id.clone(), &id);
        if cp.store.get(&k).await?.is_some() {
            writes.push(Write::Delete {
                key: k,
                expect: Expect::Any,
            });
        }
    }
    cp.store.commit(writes).await?;
    Reply::empty()
}

/// Splits one CSV line: fields may be quoted with `"` (a doubled `""` inside is a quote) or
/// `'`, and quoted fields may hold commas.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => {
                if q == '"' && chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some(_) => cur.push(c),
            None if (c == '"' || c == '\'') && cur.trim().is_empty() => {
                cur.clear();
                quote = Some(c);
            }
            None if c == ',' => fields.push(std::mem::take(&mut cur).trim().to_string()),
            None => cur.push(c),
        }
    }
    fields.push(cur.trim().to_string());
    fields
}

pub(crate) async fn import(cp: &ControlPlane, call: &Call) -> Outcome {
    if call.query("format").is_some_and(|f| f != "csv") {
        return Err(ApiError::bad_request(
            "Invalid format specified: only csv is supported",
        ));
    }
    let text = String::from_utf8_lossy(&call.body).to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| ApiError::bad_request("Invalid API keys file: no header row"))?
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let key_col = col("key")
        .ok_or_else(|| ApiError::bad_request("Invalid API keys file: a Key column is required"))?;
    let mut ids = Vec::new();
    for line in lines {
        let cells = csv_fields(line);
        let get = |c: Option<usize>| {
            c.and_then(|i| cells.get(i))
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
        };
        let input = v1::CreateApiKeyRequest {
            name: get(col("name")),
            value: get(Some(key_col)),
            description: get(col("description")),
            enabled: get(col("enabled")).map(|e| e.eq_ignore_ascii_case("true")),
            ..Default::default()
        };
        let key = create_key(cp, input).await?;
        let key_id = key.id.clone().unwrap_or_default();
        if let Some(plans) = get(col("usageplanids")) {
            for plan in plans
                .split([',', ':'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                crate::usage_plans::add_key(cp, plan, &key_id).await?;
            }
        }
        ids.push(key_id);
    }
    Reply::json(serde_json::json!({ "ids": ids, "warnings": [] }))
}

/// ImportApiKeys: CSV with a header row (`name,key,description,enabled,usageplanIds`, any
/// order and case; `key` required).
#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_honour_quotes() {
        assert_eq!(
            super::csv_fields(r#"a, "b,c" ,'d,e',"x""y""#),
            vec!["a", "b,c", "d,e", "x\"y"]
        );
        assert_eq!(super::csv_fields("k,,v"), vec!["k", "", "v"]);
    }
}
