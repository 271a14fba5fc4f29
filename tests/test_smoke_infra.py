def test_categories_are_public(client):
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    assert [c["code"] for c in response.get_json()] == [
        "harassment", "threat", "violence", "property_damage", "corruption"
    ]
