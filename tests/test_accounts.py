"""``taizhang users`` and the account rules behind it: names, roles and levels, the
password policy, deactivation as a recorded state, and the users file (all or nothing)."""

from __future__ import annotations

import json

import pytest
from helpers import write_csv

from taizhang.accounts import actions
from taizhang.accounts.models import Profile, Role
from taizhang.audit.models import AuditEntry
from taizhang.orgunits.models import OrgUnit

pytestmark = pytest.mark.django_db

GOOD = "plum blossom 2026"  # 17 characters, not common, not numeric, not like a name


@pytest.fixture(autouse=True)
def area(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    county = OrgUnit.objects.create(code="410325", name="嵩县", level=3)
    town = OrgUnit.objects.create(code="410325100", name="城关镇", parent=county, level=4)
    OrgUnit.objects.create(code="410325100201", name="东街村", parent=town, level=5)


@pytest.fixture
def pw(tmp_path):
    def write(text=GOOD, name="pw.txt"):
        path = tmp_path / name
        path.write_text(text + "\n", encoding="utf-8")
        return path

    return write


def cli_ok(result):
    assert result.exit_code == 0, result.output
    return result.output


class TestNames:
    @pytest.mark.parametrize(
        "typed, kept",
        [(" anna ", "anna"), ("ａｎｎａ", "anna"), ("\tanna\n", "anna"), ("李娜", "李娜")],
    )
    def test_it_normalises_a_new_name(self, typed, kept):
        assert actions.check_username(typed) == kept

    @pytest.mark.parametrize("typed", ["an na", "an\tna", "an\x00na", "an\u200bna", "anna!", ""])
    def test_it_refuses_spaces_controls_and_symbols_inside(self, typed):
        with pytest.raises(actions.AccountError) as e:
            actions.check_username(typed)
        assert e.value.field == "username"

    @pytest.mark.parametrize("typed", ["Anna", "ANNA", "Ａｎｎａ", "anna"])
    def test_it_refuses_a_name_that_differs_only_by_case_or_width(self, typed, django_user_model):
        django_user_model.objects.create(username="anna")
        with pytest.raises(actions.AccountError, match="anna"):
            actions.check_username(typed)


class TestRolesAndPasswords:
    def test_a_role_goes_with_its_level(self):
        assert actions.check_org(Role.VILLAGE_WORKER, "410325100201").code == "410325100201"
        with pytest.raises(actions.AccountError, match="a village"):
            actions.check_org(Role.VILLAGE_WORKER, "410325100")
        with pytest.raises(actions.AccountError, match="a township"):
            actions.check_org(Role.TOWNSHIP_STATISTICIAN, "410325")
        with pytest.raises(actions.AccountError, match="not an org unit"):
            actions.check_org(Role.COUNTY_ADMIN, "999999")

    @pytest.mark.parametrize(
        "password, says",
        [
            ("short pw", "too short"),
            ("12345678901234", "entirely numeric"),
            ("password1234", "too common"),
            ("wangfang2026", "too similar"),
        ],
    )
    def test_the_policy_refuses_weak_passwords(self, password, says):
        from django.contrib.auth import get_user_model

        with pytest.raises(actions.AccountError) as e:
            actions.check_password(password, get_user_model()(username="wangfang2026"))
        assert e.value.field == "password"
        assert says in e.value.message


class TestCommands:
    def test_it_creates_an_account_audited(self, taizhang, pw, client):
        out = cli_ok(
            taizhang(
                "users",
                "create",
                " ｌｉｎａ ",
                "--role",
                "village",
                "--org",
                "410325100201",
                "--password-file",
                pw(),
            )
        )
        assert "made the account lina (village, 410325100201 东街村)" in out
        profile = Profile.objects.get(user__username="lina")
        assert (profile.role, profile.org_unit_id) == (Role.VILLAGE_WORKER, "410325100201")
        entry = AuditEntry.objects.get(action="user_create")
        assert (entry.object_id, entry.org_code, entry.source) == (
            str(profile.user_id),
            "410325100201",
            "cli",
        )
        assert client.login(username="lina", password=GOOD)

    @pytest.mark.parametrize(
        "args, says",
        [
            (["--role", "village", "--org", "410325100"], "org: "),
            (["--role", "mayor", "--org", "410325"], "role: "),
        ],
    )
    def test_it_refuses_with_a_sentence_and_exit_1(self, taizhang, pw, args, says):
        result = taizhang("users", "create", "lina", *args, "--password-file", pw())
        assert result.exit_code == 1
        assert says in result.output
        assert not Profile.objects.exists()

    def test_it_refuses_a_weak_password_from_the_file(self, taizhang, pw):
        result = taizhang(
            "users",
            "create",
            "lina",
            "--role",
            "county",
            "--org",
            "410325",
            "--password-file",
            pw("12345"),
        )
        assert result.exit_code == 1
        assert "password: This password is too short" in result.output

    def test_a_missing_password_file_is_exit_1(self, taizhang, tmp_path):
        result = taizhang(
            "users",
            "create",
            "lina",
            "--role",
            "county",
            "--org",
            "410325",
            "--password-file",
            tmp_path / "none.txt",
        )
        assert result.exit_code == 1
        assert "no such file" in result.output

    def test_deactivation_is_a_recorded_state_and_can_be_undone(self, taizhang, pw, client):
        cli_ok(
            taizhang(
                "users",
                "create",
                "lina",
                "--role",
                "county",
                "--org",
                "410325",
                "--password-file",
                pw(),
            )
        )
        assert "lina deactivated" in cli_ok(taizhang("users", "deactivate", "lina"))
        assert not client.login(username="lina", password=GOOD)
        assert Profile.objects.filter(user__username="lina", user__is_active=False).exists()
        listed = cli_ok(taizhang("users", "list"))
        assert "lina\tcounty\t410325\t嵩县\tdeactivated\t-" in listed
        cli_ok(taizhang("users", "reactivate", "lina"))
        assert client.login(username="lina", password=GOOD)
        assert list(
            AuditEntry.objects.filter(object_type="user")
            .order_by("id")
            .values_list("action", flat=True)
        ) == ["user_create", "user_deactivate", "user_reactivate"]

    def test_it_resets_a_password(self, taizhang, pw, client):
        cli_ok(
            taizhang(
                "users",
                "create",
                "lina",
                "--role",
                "county",
                "--org",
                "410325",
                "--password-file",
                pw(),
            )
        )
        cli_ok(
            taizhang(
                "users",
                "reset-password",
                "lina",
                "--password-file",
                pw("river stone 88", "new.txt"),
            )
        )
        assert client.login(username="lina", password="river stone 88")
        assert AuditEntry.objects.filter(action="password_reset").count() == 1

    def test_an_unknown_name_is_exit_1(self, taizhang):
        result = taizhang("users", "deactivate", "nobody")
        assert result.exit_code == 1
        assert "no account named nobody" in result.output


HEADER = ["username", "role", "org", "password"]


class TestImport:
    def test_it_makes_every_account_of_a_good_file_once(self, taizhang, tmp_path):
        path = write_csv(
            tmp_path / "users.csv",
            ["用户名", "角色", "单位代码", "密码"],
            [
                ["zhang", "county", "410325", GOOD],
                ["wang", "township", "410325100", "river stone 88"],
                ["li", "village", "410325100201", "bamboo grove 7"],
            ],
            encoding="utf-8-sig",
        )
        assert "3 rows: created 3, unchanged 0" in cli_ok(taizhang("users", "import", path))
        assert "3 rows: created 0, unchanged 3" in cli_ok(taizhang("users", "import", path))
        assert Profile.objects.count() == 3
        assert (
            AuditEntry.objects.filter(action="user_create", detail__file="users.csv").count() == 3
        )

    def test_a_bad_row_writes_nothing_and_names_every_problem(self, taizhang, tmp_path):
        path = write_csv(
            tmp_path / "users.csv",
            HEADER,
            [
                ["zhang", "county", "410325", GOOD],
                ["wang wei", "township", "410325100", GOOD],
                ["Zhang", "village", "410325100201", GOOD],
                ["li", "village", "410325100", "1234567890123"],
                ["zhao", "boss", "410325", GOOD],
            ],
        )
        errors = tmp_path / "errors.json"
        result = taizhang("users", "import", path, "--errors-json", errors)
        assert result.exit_code == 1
        reported = [(e["row"], e["column"]) for e in json.loads(errors.read_text())]
        assert reported == [
            (2, "username"),
            (3, "username"),
            (4, "org"),
            (4, "password"),
            (5, "role"),
        ]
        assert "users.csv: nothing imported — 4 of 5 rows have errors" in result.output
        assert not Profile.objects.exists()
        assert not AuditEntry.objects.filter(action="user_create").exists()

    def test_a_file_without_the_columns_is_refused(self, taizhang, tmp_path):
        path = write_csv(tmp_path / "users.csv", ["username", "role"], [["a", "county"]])
        result = taizhang("users", "import", path)
        assert result.exit_code == 1
        assert "missing columns 单位代码 (org), 密码 (password)" in result.output

    def test_a_file_with_nul_bytes_or_in_big5_is_refused(self, taizhang, tmp_path):
        # The same text rules as every import: a NUL byte, or names that read as Big5.
        nul = tmp_path / "nul.csv"
        nul.write_bytes(b"username,role,org,password\nzhang\x00,county,410325,x\n")
        result = taizhang("users", "import", nul)
        assert result.exit_code == 1
        assert "NUL" in result.output
        big5 = tmp_path / "big5.csv"
        rows = "username,role,org,password\n" + "".join(
            f"{n},village,410325100201,{GOOD}\n" for n in ("黃俊傑", "陳淑芬", "張志豪")
        )
        big5.write_bytes(rows.encode("big5"))
        result = taizhang("users", "import", big5)
        assert result.exit_code == 1
        assert "Big5" in result.output
        assert not Profile.objects.exists()


def test_the_demo_logins_pass_the_password_policy(client):
    from django.contrib.auth import password_validation

    from taizhang.web.cli import demo_logins

    for username, _role, _area, password in demo_logins():
        user = Profile.objects.get(user__username=username).user
        password_validation.validate_password(password, user)
        assert client.login(username=username, password=password)
