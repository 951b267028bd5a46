using Npgsql;

namespace Gatehouse.Reports;

/// <summary>How a column's value is read from the database and written to the CSV.</summary>
public enum ColumnKind { Text, Long, Int, Money, Bool, Time, Uuid }

/// <summary>A report column: its CSV header (the API's field name), its label in the admin, and its SQL over the view.</summary>
public sealed record ReportColumn(string Key, string Label, ColumnKind Kind, string Sql);

/// <summary>
/// The three report types, their columns in CSV order, and the query each report runs. Each reads one reports.* view
/// (owned by the Reports migrations) and keeps the records created within the report's period, oldest first.
/// Access reports also filter on the record's status as the Access tab shows it: active (purchased, granted,
/// access-voucher, full-discount) or inactive (expired, revoked), narrowed to some of those record types.
/// </summary>
public sealed record ReportType(string Key, string Title, string View, string CreatedColumn, string OrderBy, IReadOnlyList<ReportColumn> Columns)
{
    public static readonly string[] ActiveRecordTypes = ["purchased", "granted", "access-voucher", "full-discount"];
    public static readonly string[] InactiveRecordTypes = ["expired", "revoked"];
    public static readonly string[] AccessStatuses = ["active", "inactive", "all"];

    /// <summary>An access record's status at <c>@now</c>, as the Access tab names it.</summary>
    private const string AccessStatus =
        "case when revoked_at is not null then 'revoked' when expires_at <= @now then 'expired' when starts_at > @now then 'scheduled' else type end";

    public static readonly ReportType Access = new("access", "Access", "reports.access_records", "created_at", "created_at, item_access_id",
    [
        new("item_access_id", "Access ID", ColumnKind.Long, "item_access_id"),
        new("status", "Status", ColumnKind.Text, AccessStatus),
        new("type", "Type", ColumnKind.Text, "type"),
        new("resource_type", "Asset or package", ColumnKind.Text, "resource_type"),
        new("item_id", "Asset or package ID", ColumnKind.Long, "item_id"),
        new("item_title", "Title", ColumnKind.Text, "item_title"),
        new("customer_id", "Viewer ID", ColumnKind.Long, "customer_id"),
        new("customer_uuid", "Viewer UUID", ColumnKind.Uuid, "customer_uuid"),
        new("consumer_email", "Viewer email", ColumnKind.Text, "consumer_email"),
        new("starts_at", "Starts (UTC)", ColumnKind.Time, "starts_at"),
        new("expires_at", "Expires (UTC)", ColumnKind.Time, "expires_at"),
        new("created_at", "Created (UTC)", ColumnKind.Time, "created_at"),
        new("revoked", "Revoked", ColumnKind.Bool, "revoked_at is not null"),
        new("revoked_at", "Revoked at (UTC)", ColumnKind.Time, "revoked_at"),
        new("is_trial", "Trial", ColumnKind.Bool, "is_trial"),
        new("source", "Source", ColumnKind.Text, "source"),
        new("purchased_access_fee_id", "Price option ID", ColumnKind.Long, "purchased_access_fee_id"),
        new("purchased_access_fee_description", "Price option", ColumnKind.Text, "purchased_access_fee_description"),
        new("purchased_access_fee_type", "Price option type", ColumnKind.Text, "purchased_access_fee_type"),
        new("purchased_amount", "Price", ColumnKind.Money, "purchased_amount"),
        new("purchased_currency", "Currency", ColumnKind.Text, "purchased_currency"),
    ]);

    public static readonly ReportType Payments = new("payments", "Payments", "reports.payment_records", "created_at", "created_at, id",
    [
        new("id", "Payment ID", ColumnKind.Long, "id"),
        new("transaction_token", "Transaction token", ColumnKind.Text, "transaction_token"),
        new("created_at", "Created (UTC)", ColumnKind.Time, "created_at"),
        new("completed_at", "Completed (UTC)", ColumnKind.Time, "completed_at"),
        new("status", "Status", ColumnKind.Text, "status"),
        new("action_type", "Type", ColumnKind.Text, "action_type"),
        new("consumer_id", "Viewer ID", ColumnKind.Long, "consumer_id"),
        new("consumer_email", "Viewer email", ColumnKind.Text, "consumer_email"),
        new("item_id", "Asset or package ID", ColumnKind.Long, "item_id"),
        new("item_title", "Title", ColumnKind.Text, "item_title"),
        new("item_type", "Asset type", ColumnKind.Text, "item_type"),
        new("access_fee_id", "Price option ID", ColumnKind.Long, "access_fee_id"),
        new("access_fee_description", "Price option", ColumnKind.Text, "access_fee_description"),
        new("amount", "Price", ColumnKind.Money, "amount"),
        new("charged_amount", "Charged", ColumnKind.Money, "charged_amount"),
        new("currency_iso", "Currency", ColumnKind.Text, "currency_iso"),
        new("voucher_code", "Voucher code", ColumnKind.Text, "voucher_code"),
        new("voucher_discount", "Voucher discount (%)", ColumnKind.Int, "voucher_discount"),
        new("gateway_name", "Gateway", ColumnKind.Text, "gateway_name"),
        new("payment_method_name", "Payment method", ColumnKind.Text, "payment_method_name"),
        new("card_last4", "Card (last 4)", ColumnKind.Text, "card_last4"),
        new("expires_at", "Access expires (UTC)", ColumnKind.Time, "expires_at"),
        new("subscription_id", "Subscription ID", ColumnKind.Long, "subscription_id"),
        new("gift_code", "Gift voucher code", ColumnKind.Text, "gift_code"),
        new("gift_receiver_email", "Gift receiver", ColumnKind.Text, "gift_receiver_email"),
        new("failure_reason", "Failure reason", ColumnKind.Text, "failure_reason"),
    ]);

    public static readonly ReportType Subscriptions = new("subscriptions", "Subscriptions", "reports.subscription_records", "created_at", "created_at, id",
    [
        new("id", "Subscription ID", ColumnKind.Long, "id"),
        new("created_at", "Created (UTC)", ColumnKind.Time, "created_at"),
        new("status", "Status", ColumnKind.Text, "status"),
        new("consumer_id", "Viewer ID", ColumnKind.Long, "consumer_id"),
        new("consumer_email", "Viewer email", ColumnKind.Text, "consumer_email"),
        new("item_id", "Asset or package ID", ColumnKind.Long, "item_id"),
        new("item_title", "Title", ColumnKind.Text, "item_title"),
        new("resource_type", "Asset or package", ColumnKind.Text, "resource_type"),
        new("access_fee_id", "Price option ID", ColumnKind.Long, "access_fee_id"),
        new("description", "Price option", ColumnKind.Text, "description"),
        new("amount", "Price", ColumnKind.Money, "amount"),
        new("currency", "Currency", ColumnKind.Text, "currency"),
        new("billing_period", "Billing period", ColumnKind.Text, "billing_period"),
        new("charges", "Paid charges", ColumnKind.Int, "charges"),
        new("next_rebill_at", "Next charge (UTC)", ColumnKind.Time, "next_rebill_at"),
        new("failed_attempts", "Failed attempts", ColumnKind.Int, "failed_attempts"),
        new("voucher_code", "Voucher code", ColumnKind.Text, "voucher_code"),
        new("discount", "First charge discount (%)", ColumnKind.Int, "discount"),
        new("rebill_discount", "Rebill discount (%)", ColumnKind.Int, "rebill_discount"),
        new("card_last4", "Card (last 4)", ColumnKind.Text, "card_last4"),
        new("cancelled_at", "Cancelled (UTC)", ColumnKind.Time, "cancelled_at"),
        new("cancelled_by", "Cancelled by", ColumnKind.Text, "cancelled_by"),
    ]);

    public static readonly IReadOnlyList<ReportType> All = [Access, Payments, Subscriptions];

    public static ReportType? Find(string? key) => All.FirstOrDefault(t => t.Key == key);

    /// <summary>The chosen columns in CSV order (none chosen: all of them).</summary>
    public IReadOnlyList<ReportColumn> Chosen(IReadOnlyCollection<string> keys) =>
        keys.Count == 0 ? Columns : Columns.Where(c => keys.Contains(c.Key)).ToList();

    /// <summary>What a report asks for, checked: the columns and filters the query is built from.</summary>
    public sealed record Filter(long MerchantId, DateTimeOffset From, DateTimeOffset To, string AccessStatus, IReadOnlyList<string> RecordTypes,
        IReadOnlyList<string> Columns, DateTimeOffset Now);

    /// <summary>The report's query, with its parameters; the bench runs the same text through psql's \copy.</summary>
    public (string Sql, Dictionary<string, object> Parameters) Query(Filter filter)
    {
        var select = string.Join(", ", Chosen(filter.Columns).Select(c => $"{c.Sql} as {c.Key}"));
        var where = new List<string> { "merchant_id = @merchantId", $"{CreatedColumn} >= @from", $"{CreatedColumn} < @to" };
        var parameters = new Dictionary<string, object>
        {
            ["merchantId"] = filter.MerchantId, ["from"] = filter.From.UtcDateTime, ["to"] = filter.To.UtcDateTime, ["now"] = filter.Now.UtcDateTime,
        };
        if (Key == "access" && filter.AccessStatus != "all")
        {
            where.Add(filter.AccessStatus == "active"
                ? "revoked_at is null and starts_at <= @now and expires_at > @now"
                : "(revoked_at is not null or expires_at <= @now)");
            if (filter.RecordTypes.Count > 0)
            {
                where.Add($"{AccessStatus} = any(@recordTypes)");
                parameters["recordTypes"] = filter.RecordTypes.ToArray();
            }
        }
        return ($"select {select} from {View} where {string.Join(" and ", where)} order by {OrderBy}", parameters);
    }

    /// <summary>The query as a command on <paramref name="connection"/>.</summary>
    public NpgsqlCommand Command(NpgsqlConnection connection, Filter filter)
    {
        var (sql, parameters) = Query(filter);
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }
}
