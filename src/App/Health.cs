using Dapper;
using Npgsql;

/// <summary>GET /health: 200 when the database answers, 503 otherwise.</summary>
internal static class Health
{
    public static async Task<IResult> Check(NpgsqlDataSource db, CancellationToken cancellation)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(cancellation);
            await connection.ExecuteScalarAsync<int>("select 1");
            return Results.Ok(new { status = "ok" });
        }
        catch (NpgsqlException)
        {
            return Results.Json(new { status = "unavailable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
