//! Templates, configuration validation with JSON paths, exact base pricing, configHash.

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(
    templates_are_listed_with_their_catalog,
    invalid_configurations_name_their_paths,
    base_pricing_is_exact,
    config_hash_ignores_key_and_selection_order,
);

async fn templates_are_listed_with_their_catalog(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (status, list) = app.get("/api/v1/templates").await;
    assert_eq!(status, StatusCode::OK);
    let templates = list["data"].as_array().unwrap();
    assert!(templates.len() >= 3);
    for template in templates {
        assert!(!template["components"].as_array().unwrap().is_empty());
        assert!(!template["colors"].as_array().unwrap().is_empty());
        for option in template["options"].as_array().unwrap() {
            for field in ["id", "code", "name", "group"] {
                assert!(option[field].is_string(), "{option}");
            }
        }
    }
    let lift_slide = app.template("2-panel-lift-slide").await;
    assert_eq!(lift_slide["name"], "2-panel Lift-Slide Door");
    let by_id = app.template(lift_slide["id"].as_str().unwrap()).await;
    assert_eq!(by_id, lift_slide);
    let types: Vec<_> =
        lift_slide["components"].as_array().unwrap().iter().map(|c| &c["type"]).collect();
    assert!(types.contains(&&json!("door")) && types.contains(&&json!("fixed")));
    let hrpp =
        lift_slide["options"].as_array().unwrap().iter().find(|o| o["code"] == "HRPP").unwrap();
    assert_eq!(hrpp["name"], "HR++ glass");
    assert_eq!(hrpp["group"], "glass");
    let (status, body) = app.get("/api/v1/templates/tpl_doesnotexist").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

fn find<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|item| item[field] == value).unwrap()
}

async fn invalid_configurations_name_their_paths(backend: Backend) {
    let app = TestApp::start(backend).await;
    let template = app.template("2-panel-lift-slide").await;
    let door = find(&template["components"], "type", "door")["id"].clone();
    let fixed = find(&template["components"], "type", "fixed")["id"].clone();
    let smart = find(&template["options"], "code", "SMART")["id"].clone();
    let hrpp = find(&template["options"], "code", "HRPP")["id"].clone();
    let dg = find(&template["options"], "code", "DG")["id"].clone();
    let oak = find(&template["colors"], "code", "OAK")["id"].clone();
    let configuration = json!({
        "width": 9000, "height": 2000,
        "components": [
            {"componentId": door, "width": 1000, "height": 1900, "selectedOptions": [{"optionId": "opt_nope"}]},
            {"componentId": fixed, "width": 1000, "height": 1900, "selectedOptions": [{"optionId": smart}]},
            {"componentId": door, "width": 1000, "height": 1900, "selectedOptions": [{"optionId": hrpp}, {"optionId": dg}]},
            {"componentId": "cmp_unknown", "width": 1000, "height": 1900}
        ],
        "insideColorId": oak, "outsideColorId": "col_unknown"
    });
    let (status, body) = app
        .post(
            "/api/v1/templates/2-panel-lift-slide/pricing",
            &json!({"configuration": configuration}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let mut paths: Vec<_> = body["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    let mut expected = vec![
        "configuration.width",
        "configuration.components[0].selectedOptions[0].optionId",
        "configuration.components[1].selectedOptions[0].optionId",
        "configuration.components[2].selectedOptions[1].optionId",
        "configuration.components[3].componentId",
        "configuration.insideColorId",
        "configuration.outsideColorId",
    ];
    expected.sort();
    assert_eq!(paths, expected);

    // Wrong types and unknown fields are 422 with the path, before any catalog check.
    for (configuration, path) in [
        (json!({"width": 2400.5, "height": 1800, "components": []}), "configuration.width"),
        (json!({"width": 2400, "height": "tall", "components": []}), "configuration.height"),
        (
            json!({"width": 2400, "height": 1800, "components": [], "depth": 3}),
            "configuration.depth",
        ),
        (json!({"width": -1, "height": 1800, "components": []}), "configuration.width"),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/templates/2-panel-lift-slide/pricing",
                &json!({"configuration": configuration}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["details"]["errors"][0]["path"], path, "{body}");
    }
}

async fn base_pricing_is_exact(backend: Backend) {
    let app = TestApp::start(backend).await;
    let template = app.template("2-panel-lift-slide").await;
    let door = find(&template["components"], "type", "door")["id"].clone();
    let triple = find(&template["options"], "code", "TRIPLE")["id"].clone();
    let anthracite = find(&template["colors"], "code", "ANTH")["id"].clone();
    // Areas and prices chosen so binary floats would drift: 1.185 m × 1.74 m = 2.0619 m².
    let configuration = json!({
        "width": 2400, "height": 1800,
        "components": [
            {"componentId": door, "width": 1185, "height": 1740, "selectedOptions": [{"optionId": triple}]},
            {"componentId": door, "width": 1185, "height": 1740, "selectedOptions": [{"optionId": triple}]}
        ],
        "insideColorId": anthracite, "outsideColorId": anthracite
    });
    let response = app
        .client
        .post(app.url("/api/v1/templates/2-panel-lift-slide/pricing"))
        .bearer_auth(&app.seeded.key)
        .json(&json!({"configuration": configuration}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let priced: Value = serde_json::from_str(&text).unwrap();
    let items = priced["basePricing"]["lineItems"].as_array().unwrap();
    let summary: Vec<(String, String, String, String)> = items
        .iter()
        .map(|i| {
            (
                i["description"].as_str().unwrap().into(),
                i["quantity"].to_string(),
                i["unitPrice"].to_string(),
                i["total"].to_string(),
            )
        })
        .collect();
    let expected = [
        ("Aluminium frame", "8.4", "45.0", "378.0"),
        ("Lift-slide door panel", "2", "480.0", "960.0"),
        ("Triple glazing (HR+++)", "4.124", "95.0", "391.78"),
        ("Anthracite finish", "8.64", "18.0", "155.52"),
        ("Delivery", "1", "95.0", "95.0"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(summary, expected);
    // The subtotal is exactly the decimal sum, as written on the wire.
    assert!(text.contains("\"subtotal\":1980.3"), "{text}");
    let sum: Decimal =
        items.iter().map(|i| i["total"].to_string().parse::<Decimal>().unwrap()).sum();
    assert_eq!(sum.to_string(), "1980.30");
    assert_eq!(priced["basePricing"]["currency"], "EUR");
    // Every base item is keyed level:strategyId:sourceId and the door item points at the component.
    let door_item = find(&priced["basePricing"]["lineItems"], "itemType", "door");
    let key = door_item["itemKey"].as_str().unwrap();
    let parts: Vec<_> = key.split(':').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "component");
    assert_eq!(parts[2], door.as_str().unwrap());
    assert!(items.windows(2).all(|w| w[0]["sortOffset"].as_i64() <= w[1]["sortOffset"].as_i64()));
}

async fn config_hash_ignores_key_and_selection_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let template = app.template("tilt-turn-window").await;
    let sash = find(&template["components"], "type", "window")["id"].as_str().unwrap().to_owned();
    let hrpp = find(&template["options"], "code", "HRPP")["id"].as_str().unwrap().to_owned();
    let ss = find(&template["options"], "code", "SS")["id"].as_str().unwrap().to_owned();
    let white = find(&template["colors"], "code", "WHITE")["id"].as_str().unwrap().to_owned();
    let forward = format!(
        r#"{{"configuration":{{"width":800,"height":1200,"components":[{{"componentId":"{sash}","width":800,"height":1200,"selectedOptions":[{{"optionId":"{hrpp}"}},{{"optionId":"{ss}"}}]}}],"insideColorId":"{white}","outsideColorId":null}}}}"#
    );
    let shuffled = format!(
        r#"{{ "configuration" : {{ "outsideColorId": null, "insideColorId": "{white}",
            "components": [ {{ "selectedOptions": [ {{"optionId": "{ss}"}}, {{"optionId": "{hrpp}"}} ],
            "height": 1200, "width": 800, "componentId": "{sash}" }} ], "height": 1200, "width": 800 }} }}"#
    );
    let omitted = format!(
        r#"{{"configuration":{{"width":800,"height":1200,"insideColorId":"{white}","components":[{{"componentId":"{sash}","width":800,"height":1200,"selectedOptions":[{{"optionId":"{hrpp}"}},{{"optionId":"{ss}"}}]}}]}}}}"#
    );
    let mut hashes = Vec::new();
    for body in [
        &forward,
        &shuffled,
        &omitted,
        &forward.replace(
            "\"width\":800,\"height\":1200,\"components\"",
            "\"width\":801,\"height\":1200,\"components\"",
        ),
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/templates/tilt-turn-window/pricing"))
            .bearer_auth(&app.seeded.key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let priced: Value = response.json().await.unwrap();
        hashes.push(priced["configHash"].as_str().unwrap().to_owned());
    }
    assert!(hashes[0].starts_with("sha256:") && hashes[0].len() == 7 + 64);
    assert_eq!(hashes[0], hashes[1]);
    assert_eq!(hashes[0], hashes[2]);
    assert_ne!(hashes[0], hashes[3]);
}
