"""The identity directory: TOML and CSV files, lookups per channel, errors naming file and line."""

from pathlib import Path

import pytest

from pipeline.identity import Directory, DirectoryError

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(params=["directory.toml", "directory.csv"])
def directory(request) -> Directory:
    return Directory.load(FIXTURES / request.param)


def test_one_rep_id_behind_every_channel(directory):
    assert directory.rep_for("wecom", "zhangwei") == "r-zhangwei"
    assert directory.rep_for("dingtalk", "0155201234") == "r-zhangwei"
    assert directory.rep_for("crm", "1001") == "r-zhangwei"
    assert directory.rep_for("email", "ZW@Xinghe-Soft.cn ") == "r-zhangwei"
    assert directory.rep_for("email", "lina@xinghe-soft.cn") == "r-lina"
    assert directory.rep_for("wecom", "nobody") is None
    assert directory.rep_for("dingtalk", "zhangwei") is None


def test_customer_by_external_id_crm_id_address_and_domain(directory):
    by_wecom = directory.customer_for("wecom", "wmYunFanChen01")
    assert by_wecom is not None
    assert (by_wecom.customer_id, by_wecom.tier, by_wecom.owner) == ("c-yunfan", "A", "r-zhangwei")
    assert directory.customer_for("crm", "LD-20261120-0001") == by_wecom
    assert directory.customer_for("email", "chen.jie@yunfan-tech.com") == by_wecom
    assert directory.customer_for("email", "someone.else@YUNFAN-tech.com") == by_wecom
    assert directory.customer_for("email", "chen.jie@other.com") is None


def test_is_staff_is_none_when_the_directory_is_silent(directory):
    assert directory.is_staff("zhangwei", "wecom") is True
    assert directory.is_staff("wmYunFanChen01", "wecom") is False
    assert directory.is_staff("wmUnknown", "wecom") is None


def test_toml_rep_details():
    directory = Directory.load(FIXTURES / "directory.toml")
    lina = next(rep for rep in directory.reps if rep.rep_id == "r-lina")
    assert lina.emails == ("lina@xinghe-soft.cn",)
    assert (lina.team, lina.manager, lina.name) == ("华东一部", "r-wangfang", "李娜")


def test_empty_directory_maps_nothing():
    assert Directory().rep_for("wecom", "zhangwei") is None
    assert Directory().customer_for("email", "a@b.cn") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rep]]\nrep_id = "a"\n\n[[rep]]\nrep_id = "a"\n', "x.toml:4: duplicate rep_id 'a'"),
        ('[[rep]]\nname = "无编号"\n', "x.toml:1: rep_id is required"),
        ('[[customer]]\ncustomer_id = "c"\ntier = "S"\n', "x.toml:1: tier must be A, B, C"),
        ('[[rep]]\nrep_id = "a"\nphone = "1"\n', "x.toml:1: unknown keys ['phone']"),
        ('[[rep]]\nrep_id = "a"\nemails = [1]\n', "x.toml:1: emails must be a string or a list"),
        ("[[rep]\n", "x.toml: "),
        ('rep = "x"\n', "x.toml: 'rep' must be an array of tables"),
    ],
)
def test_toml_errors_name_file_and_line(text, message):
    with pytest.raises(DirectoryError) as error:
        Directory.from_toml(text, "x.toml")
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rep_id,name\nr1,张\n", "x.csv:1: the header must have a 'type' column"),
        ("type,rep_id\nrep,r1\nboss,r2\n", "x.csv:3: type must be 'rep' or 'customer'"),
        ("type,customer_id,tier\ncustomer,c1,A\ncustomer,c2,Z\n", "x.csv:3: tier must be"),
        ("type,rep_id\nrep,r1,extra\n", "x.csv:2: more cells than header columns"),
    ],
)
def test_csv_errors_name_file_and_line(text, message):
    with pytest.raises(DirectoryError) as error:
        Directory.from_csv(text, "x.csv")
    assert str(error.value).startswith(message)


def test_load_names_the_path_for_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(DirectoryError, match="must be a .toml or .csv"):
        Directory.load(tmp_path / "people.xlsx")
    with pytest.raises(DirectoryError, match="missing.toml: cannot read"):
        Directory.load(tmp_path / "missing.toml")
