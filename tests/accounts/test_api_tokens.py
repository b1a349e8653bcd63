"""API tokens: made by `flask users token`, only a hash stored, revocable, only for /api/ paths."""
import pytest
import sqlalchemy as sa

from shop.accounts.models import ApiToken, Role
from shop.accounts.services import create_api_token, revoke_api_token, user_for_api_token
from shop.core.errors import DomainError
from shop.extensions import db
from tests.factories import make_user


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(app_ctx):
    user = make_user(Role.POINT_MANAGER)
    token, secret = create_api_token(user, "Máy tính bảng quầy")
    assert secret.startswith("ocop_") and len(secret) > 40
    assert secret not in token.token_hash and len(token.token_hash) == 64
    assert user_for_api_token(secret) == user
    assert user_for_api_token(secret + "x") is None and user_for_api_token("not-a-token") is None


def test_revoked_tokens_and_disabled_accounts_authenticate_nobody(app_ctx):
    user = make_user(Role.POINT_MANAGER)
    token, secret = create_api_token(user, "POS")
    revoke_api_token(token, actor=user)
    assert user_for_api_token(secret) is None
    _, other_secret = create_api_token(user, "POS 2")
    user.is_active = False
    assert user_for_api_token(other_secret) is None


def test_a_token_needs_a_name(app_ctx):
    with pytest.raises(DomainError) as refused:
        create_api_token(make_user(), "   ")
    assert refused.value.code == "name_required"


def test_the_cli_prints_a_working_token(app, runner):
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    result = runner.invoke(args=["users", "token", "officer@example.vn", "--name", "Báo cáo quý"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    with app.app_context():
        assert user_for_api_token(secret).email == "officer@example.vn"
        assert db.session.scalar(sa.select(ApiToken.name)) == "Báo cáo quý"


def test_the_cli_refuses_an_unknown_account(runner):
    result = runner.invoke(args=["users", "token", "nobody@example.vn", "--name", "x"])
    assert result.exit_code == 1 and "No account" in result.output


def test_a_bearer_token_logs_in_on_the_api_only(app, client):
    with app.app_context():
        user = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        _, secret = create_api_token(user, "POS")
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    # Pages ignore the header: the back office still asks for a login.
    response = client.get("/manage/points", headers=headers)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
