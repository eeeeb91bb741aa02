#![no_main]
//! Importing arbitrary bytes, and exporting and re-importing whatever imports, must never
//! panic.

use libfuzzer_sys::fuzz_target;
use portico_openapi::{ExportOptions, ImportOptions, Version, export, import, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = parse(data) else { return };
    let opts = ImportOptions {
        api_id: "fuzz000000".into(),
        ..Default::default()
    };
    let Ok(imported) = import(&value, &opts) else { return };
    for version in [Version::Swagger2, Version::OpenApi3] {
        let out = ExportOptions {
            version,
            integrations: true,
            authorizers: true,
            apigateway: true,
            stage: "dev".into(),
            host: "h".into(),
            scheme: "https".into(),
            default_version: "1".into(),
        };
        let exported = export(&imported.doc, &out);
        let _ = import(&exported, &opts);
    }
});
