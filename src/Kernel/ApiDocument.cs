using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Gatehouse.Kernel;

/// <summary>The OpenAPI document served at /openapi/v1.json and rendered by Scalar at /scalar, with bearer auth described.</summary>
public static class ApiDocument
{
    public static IServiceCollection AddApiDocument(this IServiceCollection services) => services.AddOpenApi(o =>
    {
        // Use cases name their records Request, Row, View…: nested types are named with their use case
        // (CreateItem.Request → CreateItemRequest), or every "Request" collapsed into one schema.
        o.CreateSchemaReferenceId = type => type.Type.DeclaringType is { } useCase && OpenApiOptions.CreateDefaultSchemaReferenceId(type) is { } name
            ? useCase.Name + name
            : OpenApiOptions.CreateDefaultSchemaReferenceId(type);
        o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Gatehouse API";
            document.Info.Description =
                "InPlayer-compatible paywall API. Send form-urlencoded (bracket keys such as metadata[k]=v) or JSON. " +
                "Get a token from POST /accounts/authenticate and send it as Authorization: Bearer <token>. " +
                "Every error answers {code, message, errors}.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Auth.BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
                Description = "A merchant (client_credentials) or viewer (password) token from POST /accounts/authenticate.",
            };
            return Task.CompletedTask;
        });
        o.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Auth.BearerScheme, context.Document)] = [] }];
            return Task.CompletedTask;
        });
    });
}
